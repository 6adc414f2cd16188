// forgeone-load: NBomber-style load runs against ForgeOne, and the side-by-side peer benchmark.
//
//   forgeone-load smoke [options]              the built-in smoke profile (profiles/smoke.yaml)
//   forgeone-load run <file.yaml|json> [options]
//   forgeone-load profiles                     lists the built-in profiles
//   forgeone-load peers [peer options]         the peer benchmark (see PeerBenchmark.cs; loadtests/peers.sh runs it)
//
// options: --target node|cluster  --seeds a,b  --reports DIR  --only NAME (repeatable)  --nosync
// Exit codes: 0 passed, 1 a threshold failed or the run did not complete, 2 bad usage or run
// file, 3 the target could not be started or reached.
using ForgeOne.Load;

return await Cli.RunAsync(args, Console.Out, Console.Error);
