using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Contention.Benchmarks.CollectorIngestBenchmarks).Assembly).Run(args);
