namespace Contention.Client.Tests;

/// <summary>The repository the tests were built from.</summary>
internal static class Repository
{
    /// <summary>The directory holding Contention.sln, above the test binaries.</summary>
    public static string Root
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Contention.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("Contention.sln not found above the test binaries");
        }
    }
}
