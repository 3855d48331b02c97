"""The longest name AWS allows for each kind of resource the template names after its stack.

The template derives its resources' names from the stack's (``${AWS::StackName}-share-worker``...),
and CloudFormation checks none of their lengths before it starts: the resource whose name is too long
fails to create and the stack rolls back. The longest stack name is then whatever the tightest of
these leaves once the template's name patterns are applied
(:meth:`local_runtime.stack.template.Stack.longest_stack_name`), so it follows the template when a pattern
changes.
"""

from __future__ import annotations

NAME_LIMITS: dict[str, tuple[str, int]] = {
    "AWS::Serverless::Function": ("FunctionName", 64),
    "AWS::Lambda::Function": ("FunctionName", 64),
    "AWS::SQS::Queue": ("QueueName", 80),
    "AWS::CloudWatch::Alarm": ("AlarmName", 255),
    "AWS::Logs::LogGroup": ("LogGroupName", 512),
    "AWS::DynamoDB::Table": ("TableName", 255),
}
"""Resource type: the property that holds its name, and the most characters AWS allows in it."""
