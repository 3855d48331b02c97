"""``share-worker`` and ``make run``: the operator's commands, on a local or a deployed stack."""
