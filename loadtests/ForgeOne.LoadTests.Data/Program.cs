using ForgeOne.LoadTests.Data;

// Data-service benchmarks.
//
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- logs [--entries N | --quick] [--topics T] [--seconds S] [--keep DIR]
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- blobs
//
// logs: loads N log entries (default 10,000,000; --quick = 200,000) straight through ShardStore
// and the log shard handler (the same validate/authorize/encrypt/index code path the shard actor
// runs, in big batches, no actor in between), then measures "topic + 1-hour range" queries with
// the load runner and prints p50/p99.
switch (args.FirstOrDefault())
{
    case "logs":
        return await LogQueryBenchmark.RunAsync(args.Skip(1).ToArray());
    case "blobs":
        Console.Error.WriteLine("blobs: the blob upload/download benchmark is not implemented yet (it belongs to the blobs service).");
        return 2;
    default:
        Console.Error.WriteLine("usage: ForgeOne.LoadTests.Data logs [--entries N | --quick] [--topics T] [--seconds S] [--keep DIR] | blobs");
        return 1;
}
