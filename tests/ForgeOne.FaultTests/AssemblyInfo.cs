// Each scenario starts whole node processes; in parallel they would compete for 2 cores and ports.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
