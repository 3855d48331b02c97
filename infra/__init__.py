"""Infrastructure as code for the team's CDK apps: the ``ShareWorker`` construct and a runnable app."""
