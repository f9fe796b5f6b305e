using Microsoft.Extensions.Configuration;
using NoOrg.Configuration;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Tasks;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>The rules of the outbox that need no cluster: signatures, subscription patterns, event names, settings.</summary>
public sealed class OutboxRulesTests
{
    [Fact]
    public void A_signature_verifies_only_with_the_same_secret_timestamp_and_body()
    {
        var signature = WebhookSignature.Sign("secret-0123456789", 1_700_000_000, """{"id":"a"}""");
        Assert.StartsWith("v1=", signature, StringComparison.Ordinal);
        Assert.True(WebhookSignature.Verify("secret-0123456789", "1700000000", """{"id":"a"}""", signature));
        Assert.False(WebhookSignature.Verify("secret-0123456780", "1700000000", """{"id":"a"}""", signature));
        Assert.False(WebhookSignature.Verify("secret-0123456789", "1700000001", """{"id":"a"}""", signature));
        Assert.False(WebhookSignature.Verify("secret-0123456789", "1700000000", """{"id":"b"}""", signature));
        Assert.False(WebhookSignature.Verify("secret-0123456789", "not-a-number", """{"id":"a"}""", signature));
    }

    [Theory]
    [InlineData("task.*", "task.completed", true)]
    [InlineData("task.*", "saga.completed", false)]
    [InlineData("*", "anything", true)]
    [InlineData("task.completed", "task.completed", true)]
    [InlineData("task.completed", "task.completed-late", false)]
    public void Subscription_patterns_are_exact_or_a_prefix_ending_in_a_star(string pattern, string type, bool matches) =>
        Assert.Equal(matches, WebhookDirectory.Matches(pattern, type));

    [Theory]
    [InlineData(TaskAction.Created, "task.created")]
    [InlineData(TaskAction.DependencySatisfied, "task.dependency-satisfied")]
    [InlineData(TaskAction.TimedOut, "task.timed-out")]
    public void Task_event_types_are_the_action_in_kebab_case(TaskAction action, string type) =>
        Assert.Equal(type, TaskGrain.EventType(action));

    [Fact]
    public void An_inbox_retention_shorter_than_the_redelivery_window_is_refused()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["NOORG_OUTBOX_INBOX_RETENTION_HOURS"] = "1",
            ["NOORG_OUTBOX_MAX_ATTEMPTS"] = "20",
            ["NOORG_OUTBOX_RETRY_MAX_SECONDS"] = "600",
        }).Build();
        var error = Assert.Throws<ConfigurationValidationException>(() => NoOrgSettings.Load(configuration));
        Assert.Contains(error.Errors, e => e.Key == "NOORG_OUTBOX_INBOX_RETENTION_HOURS");
    }
}
