"""The two worked examples of docs/architecture.md, run by the test suite: a method and a task that live
outside the package and go through the harness without a line of harness code changing."""
