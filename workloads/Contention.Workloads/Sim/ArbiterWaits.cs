namespace Contention.Workloads.Sim;

/// <summary>
/// How a real best-effort tenant's thread waits for the arbiter (<see cref="Arbiter.ArbiterMember.Admit(long, bool, Action?)"/>),
/// which decides which of several held tenants goes first — nothing takes turns on a real GPU's
/// arbiter: whichever thread looks first once the bound allows goes. A thread asks when it reaches
/// its launch (after its previous launch let go has reached the GPU), looks continuously for
/// <see cref="SpinNs"/>, then sleeps until the work let go before it is predicted to have drained
/// enough for its kernel, until something that held it changes (a latency-sensitive request closing,
/// work taken back: whoever changes it wakes every sleeper) or until <see cref="LeaseNs"/> is up while
/// a request holds it; it runs again <see cref="LateNs"/> of that sleep's length after it was due
/// (scaled by its thread's own wake-up level, <see cref="Drift"/>), and looks once more. So a
/// tenant whose kernels are short keeps the GPU while the others sleep, and one whose thread wakes
/// a few microseconds later than the others' for a while loses every race meanwhile: on the
/// real-time model (H200 host) one of three gated ResNet-50 trainers' launches waited 207 ms over
/// 570 sleeps, woken 17.7 us late at the median while the thread that took the GPU woke 8.9 us
/// late; taking turns made every step 0.22 s.
/// </summary>
/// <param name="SpinNs">How long a held launch looks continuously before it sleeps, ns (<see cref="Arbiter.ArbiterGate.SpinNs"/>).</param>
/// <param name="LeaseNs">How long a launch held by an open request sleeps unless woken, ns (<see cref="Arbiter.ArbiterGate.LeaseNs"/>).</param>
/// <param name="LateNs">How late a thread that has slept this long runs again, ns (drawn: called once per wake-up and per sleep, in the simulation's order).</param>
/// <param name="Drift">Each thread's own wake-up level, drifting (none: every thread wakes alike).</param>
/// <param name="DriftSeed">The seed of the random the levels are drawn from (with <paramref name="Drift"/>).</param>
public sealed record ArbiterWaits(long SpinNs, long LeaseNs, Func<long, long> LateNs, WakeUpDrift? Drift = null, int DriftSeed = 0)
{
    /// <summary>
    /// The real arbiter's waits on a host of <paramref name="profile"/> where <paramref name="sleepers"/>
    /// processes sleep and wake: its spin and lease, each wake-up's lateness drawn from the
    /// profile's timed sleeps (<see cref="RoundTripCurve.WakeUps"/>) with a random of
    /// <paramref name="seed"/>, scaled by each thread's level (the profile's <see cref="DeviceProfile.WakeUpDrift"/>).
    /// </summary>
    public static ArbiterWaits Of(DeviceProfile profile, int sleepers, int seed)
    {
        var wakeUps = RoundTripCurve.WakeUps(profile, sleepers);
        var random = new Random(seed);
        return new ArbiterWaits(Arbiter.ArbiterGate.SpinNs, Arbiter.ArbiterGate.LeaseNs, sleptNs => wakeUps.Draw(sleptNs, random), profile.WakeUpDrift, unchecked(seed ^ 0x5F3759DF));
    }
}
