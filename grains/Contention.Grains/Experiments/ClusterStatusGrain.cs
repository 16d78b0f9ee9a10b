using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Contention.Grains.Experiments;

/// <summary>
/// The cluster's registry of experiments and the status <c>contention status</c> shows. Experiments
/// register when they start and again at each change of state, so a registry whose silo left (and
/// with it the list it held in memory) knows every running experiment again within one change of
/// state; ended experiments are dropped once their grain has forgotten them (results saved, or
/// kept for <see cref="IExperimentGrain.KeptAfterEnd"/>). Nodes come from the membership and each
/// silo's metadata (its node name), and each is asked about itself (<see cref="INodeStatusGrain"/>).
/// </summary>
internal sealed class ClusterStatusGrain(IClusterMembershipService membership, ISiloMetadataCache metadata, TimeProvider time) : Grain, IClusterStatusGrain
{
    private readonly Dictionary<string, (string Mix, DateTimeOffset Since)> experiments = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Kept while the cluster runs: its list lives in memory.
        this.DelayDeactivation(TimeSpan.FromDays(7));
        return base.OnActivateAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task RegisterAsync(string experiment, string mix, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(experiment);
        if (!experiments.ContainsKey(experiment))
        {
            experiments[experiment] = (mix ?? "", time.GetUtcNow());
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<bool> KnowsAsync(string experiment, CancellationToken cancellationToken = default) => Task.FromResult(experiments.ContainsKey(experiment));

    /// <inheritdoc />
    public async Task<ClusterStatus> GetAsync(TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var asked = time.GetUtcNow();
        var members = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).ToList();
        var nodeCalls = members.Select(m => (Member: m, Name: NodeName(m))).Select(m => (m.Member, m.Name, Call: m.Name is null ? null : AskNode(m.Name, wait))).ToList();
        var experimentCalls = experiments.OrderBy(e => e.Value.Since).Select(e => (Id: e.Key, e.Value.Mix, Call: Within(GrainFactory.GetGrain<IExperimentGrain>(e.Key).GetProgressAsync(), wait))).ToList();

        var nodes = new List<NodeStatus>();
        var unanswered = new List<string>();
        foreach (var (member, name, call) in nodeCalls)
        {
            if (call is null)
            {
                unanswered.Add($"{member.SiloAddress}: its metadata (node name) has not reached this silo yet");
                continue;
            }

            try
            {
                nodes.Add(await call);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or SiloUnavailableException)
            {
                unanswered.Add($"{name} ({member.SiloAddress}): {ex.GetBaseException().Message}");
            }
        }

        var summaries = new List<ExperimentSummary>();
        foreach (var (id, mix, call) in experimentCalls)
        {
            ExperimentProgress? progress;
            try
            {
                progress = await call;
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or SiloUnavailableException)
            {
                progress = null;
            }

            if (progress is { State: ExperimentState.Pending } && progress.StartedUtc is null)
            {
                // Its grain came back empty: the experiment was forgotten (or its node left with it).
                experiments.Remove(id);
                continue;
            }

            summaries.Add(new ExperimentSummary(id, mix, progress));
        }

        return new ClusterStatus([.. nodes.OrderBy(n => n.Name, StringComparer.Ordinal)], unanswered, summaries, asked);
    }

    private string? NodeName(ClusterMember member) =>
        metadata.GetSiloMetadata(member.SiloAddress).Metadata.TryGetValue(DeviceRequirement.NodeKey, out var name) ? name : null;

    private Task<NodeStatus> AskNode(string name, TimeSpan wait)
    {
        // The node's own grain, activated on it (DevicePlacement reads the name from the request context).
        RequestContext.Set(DeviceRequirement.CoordinatorKey, name);
        try
        {
            return Within(GrainFactory.GetGrain<INodeStatusGrain>(name).GetAsync(), wait);
        }
        finally
        {
            RequestContext.Remove(DeviceRequirement.CoordinatorKey);
        }
    }

    private static async Task<T> Within<T>(Task<T> call, TimeSpan wait)
    {
        try
        {
            return await call.WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no answer within {wait.TotalSeconds:0.#} s");
        }
    }
}
