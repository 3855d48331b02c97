"""A stand-in for the Lambda service: the SQS event source mapping and the environments it invokes."""
