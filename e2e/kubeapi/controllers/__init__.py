"""Emulated control plane: the Deployment and ReplicaSet controllers, the
scheduler, the garbage collector, and optionally a kubelet. They act only
through the registry, so every one of their writes is seen by watchers
exactly like a real controller's."""
