using System.Text;
using Contention.Workloads.Replay;

namespace Contention.Workloads.Tests;

public class KernelTraceTests
{
    private static readonly TraceRecording Recorded = new("torch.profiler (test)", "python3 job.py", "2026-12-02T00:00:00Z", "host", "contention test");

    // Two steps of 500 µs. Step 1: a pinned HtoD copy, a kernel, an ignored runtime call, a second
    // kernel launched from another thread (autograd's), a device synchronise. Step 2 the same with
    // other times. One kernel launched before the first step (left out), an optimizer step (training).
    private const string Profiler = """
        {
          "schemaVersion": 1,
          "deviceProperties": [ { "id": 0, "name": "NVIDIA H200", "computeMajor": 9, "computeMinor": 0, "maxThreadsPerMultiprocessor": 2048, "regsPerMultiprocessor": 65536, "sharedMemPerMultiprocessor": 233472, "numSms": 132 } ],
          "traceEvents": [
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 900, "dur": 3, "args": { "correlation": 90 } },
            { "ph": "X", "cat": "kernel", "name": "warmup_kernel", "pid": 0, "tid": 7, "ts": 905, "dur": 10, "args": { "correlation": 90, "stream": 7, "device": 0, "grid": [1, 1, 1], "block": [32, 1, 1] } },
            { "ph": "X", "cat": "user_annotation", "name": "ProfilerStep#1", "pid": 1, "tid": 1, "ts": 1000, "dur": 500 },
            { "ph": "X", "cat": "cpu_op", "name": "Optimizer.step#SGD.step", "pid": 1, "tid": 1, "ts": 1300, "dur": 20 },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaMemcpyAsync", "pid": 1, "tid": 1, "ts": 1010, "dur": 5, "args": { "correlation": 1 } },
            { "ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD (Pinned -> Device)", "pid": 0, "tid": 7, "ts": 1020, "dur": 30, "args": { "correlation": 1, "stream": 7, "device": 0, "bytes": 602112 } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 1020, "dur": 4, "args": { "correlation": 2 } },
            { "ph": "X", "cat": "kernel", "name": "gemm_a", "pid": 0, "tid": 7, "ts": 1050, "dur": 100, "args": { "correlation": 2, "stream": 7, "device": 0, "grid": [66, 4, 1], "block": [256, 1, 1], "registers per thread": 128, "shared memory": 49152 } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaStreamIsCapturing", "pid": 1, "tid": 1, "ts": 1030, "dur": 1, "args": { "correlation": 3 } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2, "ts": 1040, "dur": 4, "args": { "correlation": 4 } },
            { "ph": "X", "cat": "kernel", "name": "relu_b", "pid": 0, "tid": 7, "ts": 1150, "dur": 50, "args": { "correlation": 4, "stream": 7, "device": 0, "grid": [1024, 1, 1], "block": [128, 1, 1], "registers per thread": 16, "shared memory": 0 } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaDeviceSynchronize", "pid": 1, "tid": 1, "ts": 1050, "dur": 160, "args": { "correlation": 5 } },
            { "ph": "X", "cat": "user_annotation", "name": "ProfilerStep#2", "pid": 1, "tid": 1, "ts": 1500, "dur": 500 },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaMemcpyAsync", "pid": 1, "tid": 1, "ts": 1512, "dur": 5, "args": { "correlation": 11 } },
            { "ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD (Pinned -> Device)", "pid": 0, "tid": 7, "ts": 1520, "dur": 34, "args": { "correlation": 11, "stream": 7, "device": 0, "bytes": 602112 } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 1520, "dur": 6, "args": { "correlation": 12 } },
            { "ph": "X", "cat": "kernel", "name": "gemm_a", "pid": 0, "tid": 7, "ts": 1554, "dur": 110, "args": { "correlation": 12, "stream": 7, "device": 0, "grid": [66, 4, 1], "block": [256, 1, 1], "registers per thread": 128, "shared memory": 49152 } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 2, "ts": 1540, "dur": 4, "args": { "correlation": 14 } },
            { "ph": "X", "cat": "kernel", "name": "relu_b", "pid": 0, "tid": 7, "ts": 1664, "dur": 54, "args": { "correlation": 14, "stream": 7, "device": 0, "grid": [1024, 1, 1], "block": [128, 1, 1], "registers per thread": 16, "shared memory": 0 } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaDeviceSynchronize", "pid": 1, "tid": 1, "ts": 1550, "dur": 170, "args": { "correlation": 15 } }
          ]
        }
        """;

    private static ChromeTraceImportResult Imported(string json = Profiler) =>
        ChromeTraceImport.Import(Encoding.UTF8.GetBytes(json), "p.json", "job", Recorded);

    [Fact]
    public void Import_HandMadeProfilerTrace_OpsGapsAndSyncsAsRecorded()
    {
        var (trace, notes) = Imported();

        Assert.Equal(TraceKind.Training, trace.Kind);
        Assert.Equal(("NVIDIA H200", 132, 32), (trace.Device.Name, trace.Device.Multiprocessors, trace.Device.MaxBlocksPerMultiprocessor));
        Assert.Equal(["gemm_a", "relu_b"], trace.Kernels.Select(k => k.Name));
        Assert.Equal((new Dim3(66, 4, 1), 264L, 256, 128, 49152), (trace.Kernels[0].Grid, trace.Kernels[0].Blocks, trace.Kernels[0].Threads, trace.Kernels[0].Registers, trace.Kernels[0].SharedMemory));
        Assert.Equal(2, trace.Steps.Count);
        var step = trace.Steps[0];

        // Gaps from the step's start or the previous op's call end; the ignored call's time is in the
        // next gap. Each op's events: the profiler's events since the last op's call, its own among
        // them (relu_b's gap holds the ignored call too); the optimizer's operator is in the tail.
        Assert.Equal(
            [
                new TraceOp(TraceOpKind.Copy, -1, 7, 10, 5, 20, 30, 602112, CopyDirection.HostToDevice, true, 1),
                new TraceOp(TraceOpKind.Kernel, 0, 7, 5, 4, 50, 100, Events: 1),
                new TraceOp(TraceOpKind.Kernel, 1, 7, 16, 4, 150, 50, Events: 2),
                new TraceOp(TraceOpKind.Sync, -1, -1, 6, 160, 50, 0, Events: 1),
            ],
            step.Ops);
        Assert.Equal((500.0, 290.0, 1), (step.DurationUs, step.TailUs, step.TailEvents));
        Assert.Equal(6, step.Events);
        Assert.Equal(180, step.GpuUs);
        Assert.Equal(10 + 5 + 16 + 6 + 290, step.HostUs);
        Assert.Contains(notes, n => n.StartsWith("1 GPU activities have no launch call inside a step", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.StartsWith("1 runtime calls neither launch nor synchronise", StringComparison.Ordinal));
    }

    [Fact]
    public void Import_WithoutOptimizerSteps_IsInference()
    {
        var json = Profiler.Replace("Optimizer.step#SGD.step", "aten::relu", StringComparison.Ordinal);

        Assert.Equal(TraceKind.Inference, Imported(json).Trace.Kind);
    }

    [Fact]
    public void Import_SynchronousCopy_IsACopyAndThenASync()
    {
        var json = Profiler.Replace("\"cudaMemcpyAsync\", \"pid\": 1, \"tid\": 1, \"ts\": 1010", "\"cudaMemcpy\", \"pid\": 1, \"tid\": 1, \"ts\": 1010", StringComparison.Ordinal);

        var ops = Imported(json).Trace.Steps[0].Ops;

        Assert.Equal([TraceOpKind.Copy, TraceOpKind.Sync, TraceOpKind.Kernel, TraceOpKind.Kernel, TraceOpKind.Sync], ops.Select(o => o.Kind));
        Assert.Equal(15, ops[1].StartUs);
    }

    [Theory]
    [InlineData("ProfilerStep#", "SomethingElse#", "no ProfilerStep#N annotations")]
    [InlineData("\"deviceProperties\"", "\"otherProperties\"", "no deviceProperties for device 0")]
    [InlineData("\"traceEvents\"", "\"events\"", "not a Chrome trace")]
    [InlineData("\"ts\": 1020, \"dur\": 30,", "\"ts\": \"soon\", \"dur\": 30,", "field ts: expected a number of microseconds")]
    public void Import_BadProfilerTrace_SaysWhatIsWrong(string from, string to, string expected)
    {
        var json = Profiler.Replace(from, to, StringComparison.Ordinal);

        var error = Assert.Throws<KernelTraceException>(() => Imported(json));

        Assert.StartsWith("p.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fold_AlikeSteps_OneStepRepeatedWithTheMedianTimes()
    {
        var trace = Imported().Trace;

        var folded = KernelTraceFile.Fold(trace);

        var step = Assert.Single(folded.Steps);
        Assert.Equal(2, step.Repeat);
        Assert.Equal(2, folded.RecordedSteps);
        Assert.Equal([11, 4, 15, 6], step.Ops.Select(o => o.GapUs));
        Assert.Equal([32, 105, 52, 0], step.Ops.Select(o => o.DurationUs));
        Assert.Equal([5, 5, 4, 165], step.Ops.Select(o => o.CallUs));
        Assert.Equal(285, step.TailUs);
        Assert.Equal([1, 1, 2, 1], step.Ops.Select(o => o.Events));

        // A step with other ops stays a step of its own, in its place.
        var other = trace.Steps[1] with { Ops = [.. trace.Steps[1].Ops.Take(3)] };
        var mixed = KernelTraceFile.Fold(trace with { Steps = [trace.Steps[0], other, trace.Steps[0]] });
        Assert.Equal([2, 1], mixed.Steps.Select(s => s.Repeat));
        Assert.Equal(3, mixed.Steps[1].Ops.Count);
    }

    [Fact]
    public void WriteRead_ATrace_ReadsBackTheSame()
    {
        var trace = KernelTraceFile.Fold(Imported().Trace) with { Reference = new TraceReference(480.5, 12, "12 steps after the recording", 500.25), HostCorrection = new TraceHostCorrection(1.25, "fitted") };
        var directory = Directory.CreateTempSubdirectory("contention-ktrace-").FullName;
        try
        {
            foreach (var name in new[] { "t.json", "t.json.gz" })
            {
                var path = Path.Combine(directory, name);
                KernelTraceFile.Write(trace, path);

                var read = KernelTraceFile.Read(path);

                Assert.Equal(KernelTraceFile.ToJson(trace), KernelTraceFile.ToJson(read));
                Assert.Equal(trace.Kernels, read.Kernels);
                Assert.Equal(trace.Steps[0].Ops, read.Steps[0].Ops);
                Assert.Equal((trace.Name, trace.Kind, trace.Recorded, trace.Device, trace.Reference, trace.HostCorrection), (read.Name, read.Kind, read.Recorded, read.Device, read.Reference, read.HostCorrection));
                Assert.Equal(trace.Steps[0].TailEvents, read.Steps[0].TailEvents);
            }

            Assert.Equal(0x1f, File.ReadAllBytes(Path.Combine(directory, "t.json.gz"))[0]);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Theory]
    [InlineData("\"kernel\": 1,", "\"kernel\": 5,", "step 0, op 2, field kernel: expected an index into the file's 2 kernels (0 to 1), got 5")]
    [InlineData("\"durationUs\": 105 }", "\"durationUs\": -1 }", "step 0, op 1, field durationUs: expected at least 0, got -1")]
    [InlineData("\"op\": \"sync\"", "\"op\": \"wait\"", "step 0, op 3, field op: expected kernel, copy, memset or sync, got \"wait\"")]
    [InlineData("\"direction\": \"HtoD\"", "\"direction\": \"up\"", "step 0, op 0, field direction: expected HtoD, DtoH or DtoD, got \"up\"")]
    [InlineData("\"version\": 1", "\"version\": 2", "the file, field version: version 2 is not one this build reads (it reads 1)")]
    [InlineData("\"format\": \"contention-kernel-trace\"", "\"format\": \"chrome\"", "the file, field format: expected \"contention-kernel-trace\"")]
    [InlineData("\"block\": [128, 1, 1]", "\"block\": [128, 0, 1]", "kernel 1, field block: expected [x, y, z] of whole numbers of at least 1")]
    [InlineData("\"block\": [128, 1, 1]", "\"block\": [128, 16, 1]", "kernel 1, field block: expected at most 1,024 threads a block, got 2048")]
    [InlineData("\"repeat\": 2,", "", "step 0, field repeat: missing")]
    [InlineData("\"registers\": 16,", "\"registers\": \"16\",", "kernel 1, field registers: expected a whole number, got \"16\"")]
    [InlineData("\"events\": 2,", "\"events\": -2,", "step 0, op 2, field events: expected 0 to 2147483647, got -2")]
    [InlineData("\"usPerEvent\": 1.25", "\"usPerEvent\": \"x\"", "hostCorrection, field usPerEvent: expected a number of microseconds")]
    public void Read_BadField_ErrorNamesTheRecordAndField(string from, string to, string expected)
    {
        var json = KernelTraceFile.ToJson(KernelTraceFile.Fold(Imported().Trace) with { HostCorrection = new TraceHostCorrection(1.25, "fitted") });
        Assert.Contains(from, json, StringComparison.Ordinal);

        var error = Assert.Throws<KernelTraceException>(() => KernelTraceFile.Parse(Encoding.UTF8.GetBytes(json.Replace(from, to, StringComparison.Ordinal)), "t.json"));

        Assert.StartsWith($"t.json: {expected}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NotJson_SaysTheLine()
    {
        var json = KernelTraceFile.ToJson(Imported().Trace);
        var lines = json.Split('\n');
        lines[5] = lines[5].Replace(",", ";", StringComparison.Ordinal);

        var error = Assert.Throws<KernelTraceException>(() => KernelTraceFile.Parse(Encoding.UTF8.GetBytes(string.Join('\n', lines)), "t.json"));

        Assert.StartsWith("t.json: line 6, ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    // 8 warps, 128 registers: 4,096 registers a warp, 2 blocks of 32,768; shared memory would allow 4; warps 8.
    [InlineData(256, 128, 49152, 2)]
    // 4 warps, 16 registers (512 a warp): registers allow 32, warps 16: 16.
    [InlineData(128, 16, 0, 16)]
    // 1,024 threads: 2 by warps.
    [InlineData(1024, 0, 0, 2)]
    // A block of one warp, no registers or shared memory known: the block limit, 32.
    [InlineData(32, 0, 0, 32)]
    // 100 KiB of shared memory a block: 233,472 / (102,400 + 1,024) = 2.
    [InlineData(64, 32, 102400, 2)]
    public void ResidentBlocks_AsTheOccupancyCalculatorCounts(int threads, int registers, int shared, int expected)
    {
        var device = new TraceDevice("NVIDIA H200", 132, 2048, 65536, 233472, 32);

        Assert.Equal(expected, device.ResidentBlocks(new TraceKernel("k", new Dim3(1, 1, 1), new Dim3(threads, 1, 1), registers, shared)));
    }
}
