"""Local runtime of the Share Worker, never deployed: AWS and Lambda on one machine, and the operator's CLI.

``aws`` is the embedded AWS (moto's server on 127.0.0.1 and where it is made to behave like AWS),
``lambda_service`` stands in for Lambda (the SQS event source mapping and its execution environments),
``stack`` reads ``template.yaml`` and provisions its resources, and ``cli`` is ``share-worker``.
"""
