using System.Diagnostics;
using Contention.Client.Commands;
using Contention.Workloads.Replay;

namespace Contention.Client.Tests;

public sealed class RecordCommandTests : IDisposable
{
    // One step of a kernel and a device synchronise, as torch.profiler writes it.
    private const string Profiler = """
        { "deviceProperties": [ { "id": 0, "name": "NVIDIA H200", "computeMajor": 9, "computeMinor": 0, "maxThreadsPerMultiprocessor": 2048, "regsPerMultiprocessor": 65536, "sharedMemPerMultiprocessor": 233472, "numSms": 132 } ],
          "traceEvents": [
            { "ph": "X", "cat": "user_annotation", "name": "ProfilerStep#20", "pid": 1, "tid": 1, "ts": 100, "dur": 400 },
            { "ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 1, "tid": 1, "ts": 102, "dur": 14 },
            { "ph": "X", "cat": "cpu_op", "name": "aten::empty", "pid": 1, "tid": 1, "ts": 104, "dur": 2 },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 110, "dur": 5, "args": { "correlation": 7 } },
            { "ph": "X", "cat": "kernel", "name": "gemm", "pid": 0, "tid": 7, "ts": 120, "dur": 250, "args": { "correlation": 7, "stream": 7, "device": 0, "grid": [132, 2, 1], "block": [256, 1, 1], "registers per thread": 96, "shared memory": 16384 } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaDeviceSynchronize", "pid": 1, "tid": 1, "ts": 130, "dur": 245, "args": { "correlation": 8 } }
          ] }
        """;

    private readonly string directory = Directory.CreateTempSubdirectory("contention-record-test-").FullName;

    public void Dispose() => Directory.Delete(directory, true);

    [Fact]
    public async Task FromChrome_ProfilerTrace_WritesAKernelTraceThatReadsBack()
    {
        var profile = Path.Combine(directory, "job.pt.trace.json");
        File.WriteAllText(profile, Profiler);
        var output = Path.Combine(directory, "job.ktrace.json");

        var code = await RecordCommand.Create().Parse(["--from-chrome", profile, "--out", output, "--kind", "inference"]).InvokeAsync();

        Assert.Equal(0, code);
        var trace = KernelTraceFile.Read(output);
        Assert.Equal(("job", TraceKind.Inference, "NVIDIA H200"), (trace.Name, trace.Kind, trace.Device.Name));
        var kernel = Assert.Single(trace.Kernels);
        Assert.Equal(("gemm", 264L, 96), (kernel.Name, kernel.Blocks, kernel.Registers));
        Assert.Equal([new TraceOp(TraceOpKind.Kernel, 0, 7, 10, 5, 20, 250, Events: 3), new TraceOp(TraceOpKind.Sync, -1, -1, 15, 245, 30, 0, Events: 1)], Assert.Single(trace.Steps).Ops);
        Assert.Null(trace.HostCorrection);
    }

    // One step of 1 ms: six profiler events over 310 µs before a 50 µs kernel, its wait, then a
    // 625 µs tail with two more: mostly host time, much of it the profiler's.
    private const string HostBound = """
        { "deviceProperties": [ { "id": 0, "name": "NVIDIA H200", "computeMajor": 9, "computeMinor": 0, "numSms": 132 } ],
          "traceEvents": [
            { "ph": "X", "cat": "user_annotation", "name": "ProfilerStep#0", "pid": 1, "tid": 1, "ts": 0, "dur": 1000 },
            { "ph": "X", "cat": "cpu_op", "name": "a", "pid": 1, "tid": 1, "ts": 10, "dur": 1 },
            { "ph": "X", "cat": "cpu_op", "name": "b", "pid": 1, "tid": 1, "ts": 60, "dur": 1 },
            { "ph": "X", "cat": "cpu_op", "name": "c", "pid": 1, "tid": 1, "ts": 120, "dur": 1 },
            { "ph": "X", "cat": "cpu_op", "name": "d", "pid": 1, "tid": 1, "ts": 200, "dur": 1 },
            { "ph": "X", "cat": "cpu_op", "name": "e", "pid": 1, "tid": 1, "ts": 280, "dur": 1 },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 310, "dur": 5, "args": { "correlation": 1 } },
            { "ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 320, "dur": 50, "args": { "correlation": 1, "stream": 7, "device": 0, "grid": [132, 1, 1], "block": [256, 1, 1] } },
            { "ph": "X", "cat": "cuda_runtime", "name": "cudaStreamSynchronize", "pid": 1, "tid": 1, "ts": 315, "dur": 60, "args": { "correlation": 2 } },
            { "ph": "X", "cat": "cpu_op", "name": "f", "pid": 1, "tid": 1, "ts": 500, "dur": 1 },
            { "ph": "X", "cat": "cpu_op", "name": "g", "pid": 1, "tid": 1, "ts": 700, "dur": 1 }
          ] }
        """;

    [Fact]
    public async Task FromChrome_JobsOwnStepGiven_TheProfilersCostPerEventFittedSoTheReplayTakesIt()
    {
        var profile = Path.Combine(directory, "host.pt.trace.json");
        File.WriteAllText(profile, HostBound);
        var (fitted, asProfiled) = (Path.Combine(directory, "fitted.ktrace.json"), Path.Combine(directory, "profiled.ktrace.json"));

        Assert.Equal(0, await RecordCommand.Create().Parse(["--from-chrome", profile, "--out", fitted, "--step-ms", "0.6"]).InvokeAsync());
        Assert.Equal(0, await RecordCommand.Create().Parse(["--from-chrome", profile, "--out", asProfiled, "--step-ms", "0.6", "--profiled-gaps"]).InvokeAsync());

        // By hand: the gaps (310 µs with 6 events, the wait's 0 with 1, the tail's 625 with 2) less c
        // each must leave about 600 - 50 (kernel) - the launch and wait: 995 - 8c ≈ 550 → c ≈ 55.
        var trace = KernelTraceFile.Read(fitted);
        var correction = Assert.IsType<TraceHostCorrection>(trace.HostCorrection);
        Assert.InRange(correction.UsPerEvent, 45, 60);
        Assert.Contains("the job's own step without the profiler (0.600 ms", correction.From, StringComparison.Ordinal);
        Assert.InRange(RecordCommand.ReplayedAloneMs(fitted, "h200").StepMs, 0.594, 0.606);

        // --profiled-gaps: the gaps as profiled, the replay about the profiled step.
        Assert.Null(KernelTraceFile.Read(asProfiled).HostCorrection);
        Assert.InRange(RecordCommand.ReplayedAloneMs(asProfiled, "h200").StepMs, 0.95, 1.05);

        // A job's own step longer than the replay as profiled: nothing taken out.
        Assert.Equal(0, await RecordCommand.Create().Parse(["--from-chrome", profile, "--out", fitted, "--step-ms", "2"]).InvokeAsync());
        Assert.Null(KernelTraceFile.Read(fitted).HostCorrection);
        Assert.Equal(2, await RecordCommand.Create().Parse(["--out", fitted, "--step-ms", "2", "--", "true"]).InvokeAsync());
    }

    [Fact]
    public async Task Run_AJobThatWritesTheProfile_HookFirstOnPythonPathAndTheSettingsInItsEnvironment()
    {
        // A stand-in job: checks what a Python job would find, then writes the profiler trace where the hook would.
        var job = Path.Combine(directory, "job.sh");
        File.WriteAllText(job, $$"""
            #!/bin/sh
            first="${PYTHONPATH%%:*}"
            [ -f "$first/sitecustomize.py" ] || { echo "no hook first on PYTHONPATH: $PYTHONPATH" >&2; exit 5; }
            [ "$CONTENTION_RECORD_WARMUP/$CONTENTION_RECORD_STEPS/$CONTENTION_RECORD_STEP" = "3/2/forward" ] || { echo "settings: $CONTENTION_RECORD_WARMUP/$CONTENTION_RECORD_STEPS/$CONTENTION_RECORD_STEP" >&2; exit 6; }
            [ "$1" = "--batch" ] && [ "$2" = "8" ] || exit 7
            cat > "$CONTENTION_RECORD_OUT.json" <<'JSON'
            {{Profiler}}
            JSON
            gzip -c "$CONTENTION_RECORD_OUT.json" > "$CONTENTION_RECORD_OUT"
            echo '{ "unit": "us", "warmup": [5000, 420, 410], "profiled": [450, 460], "after": [400, 405, 395] }' > "$CONTENTION_RECORD_OUT.steps.json"
            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        var output = Path.Combine(directory, "out.ktrace.json.gz");
        var chrome = Path.Combine(directory, "kept.json.gz");

        var code = await RecordCommand.Create().Parse(["--warmup", "3", "--steps", "2", "--step", "forward", "--out", output, "--chrome", chrome, "--", "sh", job, "--batch", "8"]).InvokeAsync();

        Assert.Equal(0, code);
        var trace = KernelTraceFile.Read(output);
        Assert.Equal("job", trace.Name);
        Assert.Contains("sh " + job + " --batch 8", trace.Recorded.Command, StringComparison.Ordinal);
        Assert.Contains("step end: forward", trace.Recorded.Source, StringComparison.Ordinal);
        Assert.True(File.Exists(chrome), "the profiler's trace was not kept");
        Assert.Equal(new TraceReference(400, 3, "3 steps after the recording", 455), trace.Reference);
    }

    [Fact]
    public async Task Run_AJobThatWritesNoProfile_FailsSayingSo()
    {
        Assert.Equal(2, await RecordCommand.Create().Parse(["--out", Path.Combine(directory, "x.json"), "--", "sh", "-c", "exit 3"]).InvokeAsync());
        Assert.False(File.Exists(Path.Combine(directory, "x.json")));
    }

    [Fact]
    public async Task Run_NoSuchProgram_FailsSayingSo()
    {
        Assert.Equal(2, await RecordCommand.Create().Parse(["--", Path.Combine(directory, "no-such-program")]).InvokeAsync());
    }

    [Fact]
    public async Task Run_NeitherOrBothOfAJobAndAProfile_Refused()
    {
        Assert.Equal(2, await RecordCommand.Create().Parse([]).InvokeAsync());
        Assert.Equal(2, await RecordCommand.Create().Parse(["--from-chrome", "p.json", "--", "python3", "x.py"]).InvokeAsync());
    }

    [Fact]
    public void ReplayedAloneMs_TheExampleTrace_AtLeastItsHostTimeAndAboutItsRecordedStep()
    {
        // The example's step: 321 us of host time, 189 us of GPU work it waits for, 500 us as recorded.
        var (profile, stepMs, steps) = RecordCommand.ReplayedAloneMs(Path.Combine(Repository.Root, "examples", "record", "two-steps.ktrace.json"), "h200");

        Assert.Equal("h200", profile);
        Assert.InRange(stepMs, 0.321, 0.7);
        Assert.True(steps > 1000, $"{steps} steps in the 1 s window");
    }

    [Fact]
    public async Task BenchReplay_InVirtualTimeOrOnAGpuThisMachineHasNot()
    {
        var example = Path.Combine(Repository.Root, "examples", "record", "two-steps.ktrace.json");

        Assert.Equal(0, await BenchReplayCommand.Create().Parse([example]).InvokeAsync());
        Assert.Equal(2, await BenchReplayCommand.Create().Parse([example, "--device", "cuda:99"]).InvokeAsync());
        Assert.Equal(2, await BenchReplayCommand.Create().Parse([Path.Combine(directory, "none.ktrace.json")]).InvokeAsync());
    }

    [Fact]
    public void JobName_TheScriptsName()
    {
        Assert.Equal("resnet50_torch", RecordCommand.JobName(["python3", "-u", "scripts/resnet50_torch.py", "--batch", "32"]));
        Assert.Equal("train", RecordCommand.JobName(["./train"]));
    }

    [PythonFact]
    public void Hook_WithoutTheSetting_IsImportedAndDoesNothing()
    {
        RecordCommand.WriteHook(directory);

        var (code, output) = Python("import sitecustomize; print(sitecustomize.__file__)", recording: false);

        Assert.Equal(0, code);
        Assert.Contains(Path.Combine(directory, RecordCommand.HookFile), output, StringComparison.Ordinal);
    }

    [PythonFact(withoutTorch: true)]
    public void Hook_PythonWithoutTorch_ExitsBeforeTheJobSayingWhy()
    {
        RecordCommand.WriteHook(directory);

        var (code, output) = Python("print('the job ran')", recording: true);

        Assert.Equal(3, code);
        Assert.Contains("the hook records PyTorch jobs", output, StringComparison.Ordinal);
        Assert.DoesNotContain("the job ran", output, StringComparison.Ordinal);
    }

    // A stand-in for the parts of torch the hook uses, each call written to a log, so the hook's
    // step counting runs for real without a GPU.
    private static readonly Dictionary<string, string> FakeTorch = new()
    {
        ["torch/__init__.py"] = """
            import os
            def log(line):
                with open(os.environ["FAKE_TORCH_LOG"], "a") as f:
                    f.write(line + "\n")
            class cuda:
                @staticmethod
                def is_available(): return True
                @staticmethod
                def synchronize(): log("sync")
            from . import nn, optim, profiler
            """,
        ["torch/nn/__init__.py"] = "from . import modules\n",
        ["torch/nn/modules/__init__.py"] = "from . import module\n",
        ["torch/nn/modules/module.py"] = """
            pre, post = [], []
            class Handle:
                def __init__(self, hooks, hook): self.hooks, self.hook = hooks, hook
                def remove(self): self.hooks.remove(self.hook)
            def register_module_forward_pre_hook(h):
                pre.append(h)
                return Handle(pre, h)
            def register_module_forward_hook(h):
                post.append(h)
                return Handle(post, h)
            class Module:
                def __init__(self, children):
                    self.children = [Module(0) for _ in range(children)]
                    self.hooks = []
                def register_forward_hook(self, h):
                    self.hooks.append(h)
                    return Handle(self.hooks, h)
                def __call__(self, top=True):
                    import torch
                    # fwd: the global hooks are on; fwd-unhooked: they are not.
                    if top: torch.log("fwd" if pre else "fwd-unhooked")
                    for h in list(pre): h(self, ())
                    for c in self.children: c(False)
                    # As torch: the global hooks and the module's, as they were when the call began.
                    for h in list(post) + list(self.hooks): h(self, (), None)
            models = {}
            def forward(children):
                # One model for each shape, called again and again as a job calls its model.
                models.setdefault(children, Module(children))()
            """,
        ["torch/optim/__init__.py"] = "from . import optimizer\n",
        ["torch/optim/optimizer.py"] = """
            hooks = []
            def register_optimizer_step_post_hook(h): hooks.append(h)
            def step():
                import torch
                torch.log("opt")
                for h in hooks: h(None, (), {})
            """,
        ["torch/profiler/__init__.py"] = """
            import torch
            class ProfilerActivity:
                CPU, CUDA = "cpu", "cuda"
            class ProfilerAction:
                NONE, WARMUP, RECORD, RECORD_AND_SAVE = "none", "warmup", "record", "record-and-save"
            class profile:
                # As torch's: without a schedule every step is RECORD_AND_SAVE (its events saved and
                # cleared) and no step is annotated; the log says what each step did.
                def __init__(self, activities, record_shapes, schedule=None, acc_events=False):
                    torch.log("profile " + ",".join(activities))
                    self.schedule = schedule or (lambda step: ProfilerAction.RECORD_AND_SAVE)
                    self.number = 0
                def start(self): torch.log("start " + self.schedule(self.number))
                def step(self):
                    self.number += 1
                    torch.log("step " + self.schedule(self.number))
                def stop(self): torch.log("stop")
                def export_chrome_trace(self, path):
                    torch.log("export")
                    open(path, "w").write("{}")
            """,
    };

    [PythonFact(withoutTorch: true)]
    public void Hook_InferenceJob_RecordsTopLevelForwardsAfterTheWarmup()
    {
        var (log, output) = FakeJob("for _ in range(10): module.forward(2)", warmup: 3, steps: 4);

        // Recording starts when the third forward returns and ends when the seventh does: start opens
        // the first step, each step() ends one and opens the next, stop ends the last; every step
        // recorded. The global hooks found the top-level module on the first forward and made way for its own hook.
        Assert.Equal([.. F(1), .. U1(2), "sync", "profile cpu,cuda", "start record", "fwd-unhooked", "step record", "fwd-unhooked", "step record", "fwd-unhooked", "step record", "fwd-unhooked", "sync", "stop", "export", .. U1(3)], log);
        Assert.Contains("wrote 4 steps (after 3 of warm-up, each ended by a top-level forward)", output, StringComparison.Ordinal);

        // Nine step times between ten step ends: two in the warm-up, four profiled, three after.
        Assert.Equal((2, 4, 3), StepTimes());
    }

    [PythonFact(withoutTorch: true)]
    public void Hook_TrainingJob_StepsEndAtTheOptimizersStepNotTheForward()
    {
        var (log, output) = FakeJob("for _ in range(10):\n    module.forward(3)\n    optimizer.step()", warmup: 3, steps: 2);

        // The first forward counted until the first optimizer step, then optimizer steps only: the third starts recording.
        // Once an optimizer step is seen the forward hooks are removed (their cost leaves the job's steps).
        Assert.Equal([.. T(1), .. U(2), "sync", "profile cpu,cuda", "start record", .. U(1), "step record", .. U(1), "sync", "stop", "export", .. U(5)], log);
        Assert.Contains("wrote 2 steps (after 3 of warm-up, each ended by an optimizer step)", output, StringComparison.Ordinal);

        // Timed from the first optimizer step (the forward before it no step end): 2 warm-up, 2 profiled, 5 after.
        Assert.Equal((2, 2, 5), StepTimes());
    }

    [PythonFact(withoutTorch: true)]
    public void Hook_JobEndsWhileRecording_WritesTheStepsRecordedAndSaysSo()
    {
        var (log, output) = FakeJob("for _ in range(4):\n    module.forward(1)\n    optimizer.step()", warmup: 3, steps: 5);

        Assert.Equal([.. T(1), .. U(2), "sync", "profile cpu,cuda", "start record", .. U(1), "step record", "sync", "stop", "export"], log);
        Assert.Contains("the job ended after 1 of 5 recorded steps", output, StringComparison.Ordinal);
    }

    private (int Warmup, int Profiled, int After) StepTimes()
    {
        using var times = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "p.json.steps.json")));
        int Count(string phase) => times.RootElement.GetProperty(phase).GetArrayLength();
        Assert.All(times.RootElement.GetProperty("profiled").EnumerateArray(), t => Assert.True(t.GetDouble() > 0));
        return (Count("warmup"), Count("profiled"), Count("after"));
    }

    [Fact]
    public void ReferenceOf_StepTimes_TheWarmupsLastHalfElseTheStepsAfterTheRecording()
    {
        var file = Path.Combine(directory, "s.json");
        File.WriteAllText(file, """{ "unit": "us", "warmup": [900, 100, 30, 31, 32, 33], "profiled": [40, 42, 41], "after": [29, 30, 28, 31] }""");
        Assert.Equal(new TraceReference(32, 3, "the warm-up's last 3 steps; 4 steps after the recording: 0.030 ms", 41), RecordCommand.ReferenceOf(file));

        File.WriteAllText(file, """{ "unit": "us", "warmup": [900, 100, 30, 31, 32, 33], "profiled": [40], "after": [29, 30] }""");
        Assert.Equal(new TraceReference(32, 3, "the warm-up's last 3 steps", 40), RecordCommand.ReferenceOf(file));

        File.WriteAllText(file, """{ "unit": "us", "warmup": [900, 100, 30, 31, 32], "profiled": [40], "after": [29, 30, 28] }""");
        Assert.Equal(new TraceReference(29, 3, "3 steps after the recording", 40), RecordCommand.ReferenceOf(file));

        File.WriteAllText(file, """{ "unit": "us", "warmup": [900, 100], "profiled": [40], "after": [] }""");
        Assert.Null(RecordCommand.ReferenceOf(file));
        Assert.Null(RecordCommand.ReferenceOf(Path.Combine(directory, "none.json")));
        File.WriteAllText(file, """{ "unit": "us", "warmup": [900""");
        Assert.Null(RecordCommand.ReferenceOf(file));
    }

    private static IEnumerable<string> F(int n) => Enumerable.Repeat("fwd", n);

    private static IEnumerable<string> T(int n) => Enumerable.Range(0, n).SelectMany(_ => new[] { "fwd", "opt" });

    private static IEnumerable<string> U1(int n) => Enumerable.Repeat("fwd-unhooked", n);

    private static IEnumerable<string> U(int n) => Enumerable.Range(0, n).SelectMany(_ => new[] { "fwd-unhooked", "opt" });

    private (string[] Log, string Output) FakeJob(string body, int warmup, int steps)
    {
        foreach (var (path, text) in FakeTorch)
        {
            var file = Path.Combine(directory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text.Replace("\r\n", "\n", StringComparison.Ordinal));
        }

        RecordCommand.WriteHook(directory);
        var logFile = Path.Combine(directory, "torch.log");
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", "import torch.nn.modules.module as module, torch.optim.optimizer as optimizer\n" + body]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["PYTHONPATH"] = directory;
        start.Environment["FAKE_TORCH_LOG"] = logFile;
        start.Environment["CONTENTION_RECORD_OUT"] = Path.Combine(directory, "p.json");
        start.Environment["CONTENTION_RECORD_WARMUP"] = warmup.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["CONTENTION_RECORD_STEPS"] = steps.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, output);
        return (File.ReadAllLines(logFile), output);
    }

    private (int Code, string Output) Python(string code, bool recording)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", code]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["PYTHONPATH"] = directory;
        start.Environment.Remove("CONTENTION_RECORD_OUT");
        if (recording)
        {
            start.Environment["CONTENTION_RECORD_OUT"] = Path.Combine(directory, "p.json.gz");
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
