"""The stack of ``template.yaml``: its settings read once, its table and queues provisioned on an endpoint."""
