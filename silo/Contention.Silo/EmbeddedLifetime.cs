namespace Contention.Silo;

/// <summary>
/// The lifetime of a silo embedded in a command: it ignores Ctrl+C, because the command itself
/// handles it (stops the experiment, saves partial results) and then stops the silo.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
