"""Business logic and DynamoDB access of the Share Worker (deployed with the function)."""
