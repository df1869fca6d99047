"""The driver's experiments: the batch planned for the free worker slots (`plan`), each
experiment prepared, run on a worker and decided (`experiments`), the gate jobs the workers
run (`jobs`), the in-process pool (`local`) and the options that choose a pool (`options`);
the graph is `orchestrator.graph`, the Ray workers `orchestrator.ray_workers`."""
