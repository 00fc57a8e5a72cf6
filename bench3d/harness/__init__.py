"""The harness: joins methods and protocols, runs the matrix, records results."""
