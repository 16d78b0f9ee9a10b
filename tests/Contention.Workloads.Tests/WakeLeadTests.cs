using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

public class WakeLeadTests
{
    [Fact]
    public void LeadNs_FewerWakeUpsThanNeeded_AsksForNone()
    {
        var lead = new WakeLead(0);
        for (var i = 0; i < WakeLead.MinSamples - 1; i++)
        {
            lead.Woke(50_000);
        }

        Assert.Equal(0, lead.LeadNs(1));
        lead.Woke(50_000);
        Assert.Equal(50_000 + WakeLead.MarginNs, lead.LeadNs(2));
    }

    [Fact]
    public void LeadNs_IsTheSecondLongestOfTheLatestWindowPlusTheMargin()
    {
        var lead = new WakeLead(0);
        for (var i = 1; i <= WakeLead.Window; i++)
        {
            lead.Woke(i * 1_000);
        }

        Assert.Equal(63_000 + WakeLead.MarginNs, lead.LeadNs(1));

        // A window later the long ones have gone.
        for (var i = 0; i < WakeLead.Window; i++)
        {
            lead.Woke(i == 10 ? 9_000 : 5_000);
        }

        Assert.Equal(5_000 + WakeLead.MarginNs, lead.LeadNs(2));
    }

    [Fact]
    public void LeadNs_LongWakeUps_AtMostTheCap()
    {
        var lead = new WakeLead(0);
        for (var i = 0; i < WakeLead.Window; i++)
        {
            lead.Woke(5_000_000);
        }

        Assert.Equal(WakeLead.MaxLeadNs, lead.LeadNs(1));
    }

    [Fact]
    public void LeadNs_AfterASecondSpinningMoreThanItsShare_NoneForASecondThenAgain()
    {
        var lead = new WakeLead(0);
        for (var i = 0; i < WakeLead.Window; i++)
        {
            lead.Woke(100_000);
        }

        var second = WakeLead.BudgetNs;
        Assert.Equal(102_000, lead.LeadNs(1));
        lead.Spun((long)(WakeLead.MaxSpinShare * second) + 1);
        Assert.Equal(102_000, lead.LeadNs(second - 1)); // judged at the second's end
        Assert.Equal(0, lead.LeadNs(second));
        lead.Spun(1); // even a little spinning in a second without leads
        Assert.Equal(0, lead.LeadNs((2 * second) - 1));
        Assert.Equal(102_000, lead.LeadNs(2 * second));
    }

    [Fact]
    public void Woke_NegativeLatency_CountsAsNone()
    {
        var lead = new WakeLead(0);
        for (var i = 0; i < WakeLead.Window; i++)
        {
            lead.Woke(-5_000);
        }

        Assert.Equal(WakeLead.MarginNs, lead.LeadNs(1));
    }
}
