using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(RateGuard.Benchmarks.DecisionBenchmarks).Assembly).Run(args);
