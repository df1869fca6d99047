"""The parallel pool behind `autoresearch run --parallel K`: its checkpointed state, the batch
of proposals for the free slots, the services that run and record experiments, and the local
(in-process) worker pool; the graph is `orchestrator.parallel`, the Ray workers
`orchestrator.ray_workers`."""
