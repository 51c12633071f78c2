"""End-to-end scenarios of SPEC §8 and issues 3-5, written once against the
`Cluster` driver interface (cluster.py) and run by e2e/local (network
namespaces on one machine) and e2e/kind (a real Kubernetes cluster)."""
