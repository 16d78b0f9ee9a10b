using Contention.Client.Mixes;

namespace Contention.Client.Results;

/// <summary>
/// A results directory held by one run: checked before any cluster starts (creatable, writable,
/// not another run's) and locked (an advisory lock on a file inside it) until disposed, so two runs
/// never write into one directory.
/// </summary>
internal sealed class ResultsDirectory : IDisposable
{
    /// <summary>The lock file's name.</summary>
    public const string LockFile = ".contention.lock";

    private readonly FileStream held;
    private readonly string lockPath;

    private readonly bool created;

    private ResultsDirectory(string path, FileStream held, bool created)
    {
        Path = path;
        this.held = held;
        this.created = created;
        lockPath = System.IO.Path.Combine(path, LockFile);
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>A name as it goes into a directory or experiment id: lower case, anything but ASCII letters and digits a dash.</summary>
    public static string Slug(string name) => new(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());

    /// <summary>
    /// Creates (if needed) and locks <paramref name="path"/> for a run, or a sweep when
    /// <paramref name="sweep"/> (which may resume into a directory holding its own sweep.json;
    /// whether it is the same sweep is the sweep's to judge).
    /// </summary>
    /// <exception cref="MixException">The directory cannot be used; the message says why and what to do.</exception>
    public static ResultsDirectory Claim(string path, bool sweep)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path))
        {
            throw new MixException($"--out {path}: this is a file, not a directory; give a directory (it is created if missing)");
        }

        FileStream held;
        var created = !Directory.Exists(path);
        try
        {
            Directory.CreateDirectory(path);

            // FileShare.None takes an advisory lock (flock) on Unix: a second run's open fails.
            held = new FileStream(System.IO.Path.Combine(path, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new MixException($"--out {path}: cannot write there ({ex.Message}); give a directory you can write to");
        }
        catch (IOException ex) when (Directory.Exists(path) && File.Exists(System.IO.Path.Combine(path, LockFile)))
        {
            throw new MixException($"--out {path}: another contention run is writing there ({ex.Message}); wait for it to end or give another directory");
        }
        catch (IOException ex)
        {
            throw new MixException($"--out {path}: cannot create the directory ({ex.Message}); give a directory you can write to");
        }

        var claimed = new ResultsDirectory(path, held, created);
        try
        {
            claimed.RefuseOtherRuns(sweep);
        }
        catch
        {
            claimed.Dispose();
            throw;
        }

        return claimed;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Deleted while still held: a run that opens it after this gets a fresh file, never ours.
        try
        {
            File.Delete(lockPath);
        }
        catch (IOException)
        {
        }

        held.Dispose();

        // A run refused before it wrote anything (a taken port, no cluster) leaves no empty directory.
        try
        {
            if (created && !Directory.EnumerateFileSystemEntries(Path).Any())
            {
                Directory.Delete(Path);
            }
        }
        catch (IOException)
        {
        }
    }

    private void RefuseOtherRuns(bool sweep)
    {
        var results = System.IO.Path.Combine(Path, ResultsFiles.Json);
        var manifest = System.IO.Path.Combine(Path, SweepFiles.Manifest);
        if (File.Exists(manifest) && sweep)
        {
            return;
        }

        if (File.Exists(manifest))
        {
            throw new MixException($"--out {Path} holds a sweep ({SweepFiles.Manifest}); give another directory, or delete it to run there");
        }

        if (File.Exists(results))
        {
            var id = TryReadExperiment(results);
            throw new MixException($"--out {Path} holds the results of {(id is null ? "another run" : $"experiment {id}")}; give another directory, or delete it to run there");
        }

        var others = Directory.EnumerateFileSystemEntries(Path).Where(e => System.IO.Path.GetFileName(e) != LockFile).Take(3).Select(System.IO.Path.GetFileName).ToList();
        if (others.Count > 0)
        {
            throw new MixException($"--out {Path} is not empty ({string.Join(", ", others)}{(others.Count == 3 ? ", …" : "")}); give a new or empty directory");
        }
    }

    private static string? TryReadExperiment(string results)
    {
        try
        {
            return ResultsFiles.Read(System.IO.Path.GetDirectoryName(results)!).Experiment.Id;
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }
}
