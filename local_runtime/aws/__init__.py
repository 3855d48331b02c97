"""The embedded AWS: moto's server on 127.0.0.1, with the fixes that make it answer as DynamoDB and SQS do."""
