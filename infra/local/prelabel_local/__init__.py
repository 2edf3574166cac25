"""The embedded local stack: DynamoDB Local, moto server and resources made from template.yaml."""
