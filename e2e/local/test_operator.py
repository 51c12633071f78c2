"""The Mitosis operator against the API emulator, with the kubelet running its
pods: divide under load, retire at end of life, lose nothing."""

from e2e.scenarios import mitosis
from e2e.scenarios.opconfig import OperatorConfig

# Short lives and a low normal rate, so division and retirement fit in minutes.
CONFIG = OperatorConfig(lifetime=30.0, lifetimeJitter=0.2, normalRate=20.0, tolerance=0.1,
                        minReplicas=2, maxReplicas=4, interval=2.0, leaderElection=False)


def test_operator_divides_and_retires(control_planes, tig):
    cluster, emulator, kubelet = control_planes.start(tig, CONFIG, replicas=CONFIG.minReplicas)
    control_planes.operator(emulator, CONFIG)
    mitosis.divide_and_retire(cluster, CONFIG)
    assert kubelet.errors == []
