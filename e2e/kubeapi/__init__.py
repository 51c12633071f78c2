"""A Kubernetes API server emulator over real HTTPS, for testing clients
(tig-operator) without a cluster. See README.md; start it with
`python3 -m e2e.kubeapi --state-dir DIR`, or from Python with
`e2e.kubeapi.client.start_thread` / `start_process`."""
