"""Durable background runs on DBOS Transact: the queue, durable steps, workers, recovery."""
