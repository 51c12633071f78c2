"""A full rotation of 5 pods under steady load, by the real operator against
the API emulator (issue 12): make before break at every step. The numbers it
measures go to the file named by TIG_ROTATION_REPORT (bench/rotation.sh)."""

import os

from e2e.scenarios import rotation
from e2e.scenarios.opconfig import OperatorConfig

# Five pods that all expire together; long enough a life that their
# replacements do not expire before the last original has gone.
CONFIG = OperatorConfig(lifetime=40.0, lifetimeJitter=0.0, normalRate=10_000.0, tolerance=0.1,
                        minReplicas=5, maxReplicas=6, interval=1.0, leaderElection=True)


def test_full_rotation_of_five_pods_under_load(control_planes, tig):
    cluster, emulator, kubelet = control_planes.start(tig, CONFIG, replicas=CONFIG.minReplicas)
    control_planes.operator(emulator, CONFIG)

    def operator_requests(start: float, end: float) -> list[dict]:
        log = emulator.api.get("/_emulator/requests")["requests"]
        return [e for e in log if e.get("credential") == "operator" and start <= e["time"] <= end]

    measured = rotation.rotate_under_load(cluster, CONFIG, operator_requests)
    assert kubelet.errors == []
    assert measured.api_requests, "the operator made no API requests during the rotation"
    if report := os.environ.get("TIG_ROTATION_REPORT"):
        with open(report, "a") as out:
            out.write(measured.table_row() + "\n")
