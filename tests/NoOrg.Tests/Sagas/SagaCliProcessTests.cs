using System.Text.Json;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Sagas;

/// <summary>The demo from docs/sagas.md with real processes: a silo and <c>noorg sagas</c>.</summary>
public sealed class SagaCliProcessTests
{
    [Fact]
    public async Task The_demo_order_failing_at_its_third_step_shows_charge_payment_then_reserve_stock_compensated()
    {
        var data = Directory.CreateTempSubdirectory("noorg-saga-").FullName;
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?> { ["NOORG_DASHBOARD_ENABLED"] = "false" });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));

            var started = await ProcessRunner.RunAsync("noorg.dll",
                ["sagas", "start", "order", "--input", "{\"failAt\":\"ship\"}", "--wait", "--json"], silo.Environment, timeout: TimeSpan.FromMinutes(2));
            Assert.True(started.ExitCode == 1, $"a compensated saga exits 1: {started.StandardError}{started.StandardOutput}");
            var saga = JsonDocument.Parse(started.StandardOutput).RootElement.GetProperty("saga");
            Assert.Equal("compensated", saga.GetProperty("status").GetString());
            Assert.Equal("ship", saga.GetProperty("failedStep").GetString());

            var shown = await ProcessRunner.RunAsync("noorg.dll", ["sagas", "show", saga.GetProperty("id").GetString()!, "--json"], silo.Environment);
            var compensated = JsonDocument.Parse(shown.StandardOutput).RootElement.GetProperty("log").EnumerateArray()
                .Where(e => e.GetProperty("action").GetString() == "compensated")
                .Select(e => e.GetProperty("stepId").GetString()!).ToArray();
            Assert.Equal(["charge-payment", "reserve-stock"], compensated);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
