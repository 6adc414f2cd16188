// The multi-system specs measure fail-over with short timeouts; running them beside the
// shard-actor burst tests on a 2-core machine only makes timings flaky. Classes run one by one.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
