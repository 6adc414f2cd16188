using ForgeOne.LoadTests.Data;

// Data-service benchmarks.
//
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- logs [--entries N | --quick] [--topics T] [--seconds S] [--keep DIR]
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- logs-paging [--quick | --entries N]
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- poison [--quick]
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- overload [--quick]
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- blobs [--size-mib 1024] [--nosync] [--window 4] [--breakdown]
//
// logs: loads N log entries (default 10,000,000; --quick = 200,000) straight through ShardStore
// and the log shard handler (the same validate/authorize/encrypt/index code path the shard actor
// runs, in big batches, no actor in between), then measures "topic + 1-hour range" queries with
// the load runner and prints p50/p99.
// blobs: upload and download MB/s of one blob (1 GiB) through a blob shard actor vs raw LZ4 +
// AES-GCM of the same bytes on one core, and the ratio (see Blobs/BlobBenchmark.cs).
switch (args.FirstOrDefault())
{
    case "logs":
        return await LogQueryBenchmark.RunAsync(args.Skip(1).ToArray());
    case "logs-paging":
        return LogPagingBenchmark.Run(args.Skip(1).ToArray());
    case "poison":
        return await PoisonBenchmark.RunAsync(args.Skip(1).ToArray());
    case "overload":
        return await OverloadBenchmark.RunAsync(args.Skip(1).ToArray());
    case "blobs":
        return await ForgeOne.LoadTests.Data.Blobs.BlobBenchmark.RunAsync(args.Skip(1).ToArray());
    default:
        Console.Error.WriteLine("usage: ForgeOne.LoadTests.Data logs [--entries N | --quick] [--topics T] [--seconds S] [--keep DIR] | blobs [--size-mib N] [--nosync] [--window N] [--breakdown]");
        return 1;
}
