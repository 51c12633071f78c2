"""A local multi-pod tig cluster on one Linux machine (run as root): pods in
network namespaces on a bridge, dnsmasq for the headless name, and a kubelet
that follows the Kubernetes API emulator. See e2e/scenarios for the checks."""
