namespace Contention.Workloads.Sim;

/// <summary>
/// What an idle gap costs the next request, measured on the profiled GPU (<c>contention bench idle
/// --out</c>): a thread that slept <paramref name="GapNs"/> before a request (an open-loop
/// service between requests) took <paramref name="LaunchNs"/> longer on average to launch it than
/// back-to-back requests do, and its blocking synchronise returned <paramref name="WaitNs"/> later
/// after the GPU ran it. On the H200 both grow with the gap (launches +70 µs, blocking waits +77 µs
/// after 20 ms, time-sliced): the launches' share comes back when the thread busy-waits the gap
/// instead (its core stays awake), the waits' share does not (the GPU's completion reaches a
/// blocked thread later after the GPU idled) and a spinning synchronise has none.
/// </summary>
/// <param name="GapNs">
/// How long the thread idled before the request, ns: from its previous synchronise's return to the
/// request's start (0: back to back, the baseline, whose extras are 0 by definition: a point at 0 is
/// not read). The modelled GPU looks the launch share up by its
/// thread's idle time and the wait share by the GPU's: in the measurement the GPU idled some tens of
/// microseconds longer than the thread (the completion's way back, the first launch), so a model's
/// back-to-back request meets a few microseconds of wait share the measurement counted as none.
/// </param>
/// <param name="LaunchNs">Mean extra time of the request's launches, ns (never below 0).</param>
/// <param name="WaitNs">Mean extra time of its blocking synchronise, ns (never below 0).</param>
/// <param name="Sharing">How the measuring process shared the GPU: alone (time-slicing) or as an MPS client.</param>
/// <param name="LaunchSpread">
/// How single requests' launch times spread around their mean at this gap (<see cref="RoundTripSpread"/>'s
/// quantile table), ns; null: every request takes the mean extra.
/// </param>
/// <param name="WaitSpread">
/// How single requests' blocking waits spread around their mean at this gap, ns (the back-to-back
/// spread, which the round trips already draw, is within it); null: every request takes the mean extra.
/// </param>
public sealed record MeasuredIdleCost(long GapNs, long LaunchNs, long WaitNs, GpuSharing Sharing = GpuSharing.Timeslice, IReadOnlyList<long>? LaunchSpread = null, IReadOnlyList<long>? WaitSpread = null);
