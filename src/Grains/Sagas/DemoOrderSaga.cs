using System.Text.Json;

namespace NoOrg.Grains.Sagas;

/// <summary>
/// The demo saga shipped with the silo: an order that reserves stock, charges the payment, ships and notifies.
/// Its input can ask a step to fail (<c>{"failAt":"ship"}</c>) to watch the completed steps being compensated in
/// reverse order. The effects are simulated: each step's output and each compensation's log entry say what was done.
/// </summary>
public static class DemoOrderSaga
{
    public const string Name = "order";

    public static SagaDefinition Definition { get; } = SagaDefinition.Create(Name)
        .Describe("Demo order: reserve-stock, charge-payment, ship, notify. Input {\"failAt\":\"ship\"} makes a step fail.")
        .Step("reserve-stock", c => Do(c, new { reservation = "R-" + Short(c) })).Retry(2, TimeSpan.FromMilliseconds(200))
        .Compensate(c => Undo(c, new { released = c.Output<JsonElement>("reserve-stock").GetProperty("reservation").GetString() }))
        .Step("charge-payment", c => Do(c, new { charge = "C-" + Short(c), amount = Amount(c) })).Retry(2, TimeSpan.FromMilliseconds(200))
        .Compensate(c => Undo(c, new { refunded = c.Output<JsonElement>("charge-payment").GetProperty("charge").GetString() }))
        .Step("ship", c => Do(c, new { tracking = "T-" + Short(c) })).Retry(2, TimeSpan.FromMilliseconds(200))
        .Compensate(c => Undo(c, new { recalled = c.Output<JsonElement>("ship").GetProperty("tracking").GetString() }))
        .Step("notify", c => Do(c, new { notified = true })).Retry(2, TimeSpan.FromMilliseconds(200))
        .Build();

    private static Task<string?> Do(SagaStepContext context, object output)
    {
        var input = context.Input<DemoInput>();
        return input?.FailAt == context.StepId
            ? throw new InvalidOperationException($"demo: failure injected at {context.StepId}")
            : Task.FromResult<string?>(JsonSerializer.Serialize(output, SagaKeys.Json));
    }

    private static Task<string?> Undo(SagaStepContext context, object output) =>
        Task.FromResult<string?>(JsonSerializer.Serialize(output, SagaKeys.Json));

    private static string Short(SagaStepContext context) => context.SagaId.Length > 8 ? context.SagaId[^8..] : context.SagaId;

    private static decimal Amount(SagaStepContext context) => context.Input<DemoInput>()?.Amount ?? 42m;

    private sealed record DemoInput(string? FailAt, decimal? Amount);
}
