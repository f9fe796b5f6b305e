using NoOrg.Grains.Errors;
using NoOrg.Grains.Sagas;

namespace NoOrg.Tests.Sagas;

/// <summary>Definitions are checked when built: every problem is named in one typed error.</summary>
public sealed class SagaDefinitionTests
{
    private static Task<string?> Noop(SagaStepContext context) => Task.FromResult<string?>(null);

    [Fact]
    public void A_valid_definition_keeps_order_groups_and_policies()
    {
        var definition = SagaDefinition.Create("trip")
            .Step("book", Noop).Compensate(Noop).Timeout(TimeSpan.FromSeconds(3)).Retry(4, TimeSpan.FromSeconds(2))
            .Parallel(p => p.Step("hotel", Noop).Step("car", Noop).Compensate(Noop))
            .TaskStep("confirm", "email", "mail")
            .Build();

        Assert.Equal(["book", "hotel", "car", "confirm"], definition.Steps.Select(s => s.Id));
        Assert.Equal([0, 1, 1, 2], definition.Steps.Select(s => s.Group));
        Assert.Equal(new SagaPolicy(TimeSpan.FromSeconds(3), 4, TimeSpan.FromSeconds(2)), definition.Steps[0].Policy);
        Assert.Null(definition.Find("hotel")!.Compensation);
        Assert.NotNull(definition.Find("car")!.Compensation);
        Assert.Equal("task:email", definition.Describe().Steps[3].Kind);
    }

    [Fact]
    public void Duplicate_step_ids_are_rejected()
    {
        var error = Assert.Throws<ValidationException>(() => SagaDefinition.Create("x").Step("a", Noop).Step("a", Noop).Build());
        Assert.Contains("step 'a': the id is used 2 times", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_definition_without_steps_is_rejected()
    {
        var error = Assert.Throws<ValidationException>(() => SagaDefinition.Create("x").Build());
        Assert.Contains("at least one step", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_timeouts_and_bad_retry_policies_are_rejected_together()
    {
        var error = Assert.Throws<ValidationException>(() => SagaDefinition.Create("x")
            .Step("a", Noop).Timeout(TimeSpan.FromSeconds(-1))
            .Step("b", Noop).Retry(0, TimeSpan.FromSeconds(-2))
            .Step("c", Noop).Compensate(Noop).CompensationTimeout(TimeSpan.Zero)
            .Build());

        Assert.Contains("step 'a': timeout must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("step 'b': attempts must be 1 to 100", error.Message, StringComparison.Ordinal);
        Assert.Contains("step 'b': back-off must not be negative", error.Message, StringComparison.Ordinal);
        Assert.Contains("step 'c' compensation: timeout must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Misplaced_modifiers_bad_ids_and_empty_groups_are_rejected()
    {
        var error = Assert.Throws<ValidationException>(() => SagaDefinition.Create("x")
            .Compensate(Noop)
            .Step("a:b", Noop)
            .Parallel(_ => { })
            .Build());

        Assert.Contains("Compensate: applies to the step before it, and there is none", error.Message, StringComparison.Ordinal);
        Assert.Contains("step id 'a:b'", error.Message, StringComparison.Ordinal);
        Assert.Contains("has no steps", error.Message, StringComparison.Ordinal);
    }
}
