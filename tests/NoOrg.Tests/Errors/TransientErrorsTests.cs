using NoOrg.Grains.Errors;
using Orleans.Runtime;

namespace NoOrg.Tests.Errors;

/// <summary>Which failures the client retries, the API answers as "unavailable" and the dispatcher logs as one line.</summary>
public sealed class TransientErrorsTests
{
    public static TheoryData<Exception> Transient =>
    [
        new TimeoutException("no answer"),
        new SiloUnavailableException("silo S10.0.0.1:11111 is dead"),
        new Orleans.Runtime.Messaging.ConnectionFailedException("connection refused"),
        new UnavailableException("the database could not answer"),
        new OrleansException("Error from storage provider", new UnavailableException("the database could not answer")),
    ];

    public static TheoryData<Exception> NotTransient =>
    [
        new NotFoundException("task t-1 does not exist"),
        new InvalidOperationException("a bug"),
        new OrleansException("something else"),
        new OrleansException("Error from storage provider", new NotFoundException("gone")),
    ];

    [Theory]
    [MemberData(nameof(Transient))]
    public void A_failure_of_the_cluster_or_its_storage_is_transient(Exception exception) =>
        Assert.True(TransientErrors.IsTransient(exception));

    [Theory]
    [MemberData(nameof(NotTransient))]
    public void A_failure_of_the_call_itself_is_not(Exception exception) =>
        Assert.False(TransientErrors.IsTransient(exception));

    [Fact]
    public void No_exception_is_not_transient() => Assert.False(TransientErrors.IsTransient(null));
}
