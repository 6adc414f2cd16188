using ForgeOne.LoadTests.Data.Blobs;

// Data-service benchmarks. One subcommand per data kind:
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- blobs [--size-mib 1024] [--nosync] [--window 4]
return args.FirstOrDefault() switch
{
    "blobs" => await BlobBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ForgeOne.LoadTests.Data blobs [--size-mib N] [--nosync] [--window N]");
    return 2;
}
