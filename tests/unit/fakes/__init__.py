"""In-memory implementations of every port, for unit tests of the services without storage.

They keep the rules the DynamoDB adapters keep (conditional writes, one transaction per batch
commit, counters changed with what they count), so a service test over them means something.
"""
