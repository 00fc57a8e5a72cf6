"""The engine: training loop, checkpoint + resume, seeding, device, step timing and memory probes.

The bottom of the stack above the leaves: it knows no method, task or dataset.
"""
