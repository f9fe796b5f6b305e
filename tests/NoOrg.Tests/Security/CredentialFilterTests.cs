using System.Reflection;
using NoOrg.Client;
using NoOrg.Grains.Security;
using Orleans.Runtime;
using Orleans.Serialization.Invocation;

namespace NoOrg.Tests.Security;

/// <summary>The client's outgoing filter: the configured credential on every call, a per-call one kept, nothing left behind.</summary>
public sealed class CredentialFilterTests
{
    [Fact]
    public async Task The_configured_credential_travels_with_a_call_and_not_into_the_callers_flow()
    {
        var call = new RecordingCall();

        await new CredentialFilter("configured-key").Invoke(call);

        Assert.Equal("configured-key", call.Seen);
        Assert.Null(RequestContext.Get(GrainCallCredential.Key));
    }

    [Fact]
    public async Task A_credential_set_for_the_call_wins_over_the_configured_one()
    {
        var call = new RecordingCall();

        using (GrainCallCredential.Use("per-call-key"))
        {
            await new CredentialFilter("configured-key").Invoke(call);
            Assert.Equal("per-call-key", RequestContext.Get(GrainCallCredential.Key));
        }

        Assert.Equal("per-call-key", call.Seen);
        Assert.Null(RequestContext.Get(GrainCallCredential.Key));
    }

    /// <summary>Records the credential the call would carry when it is sent (the end of the filter chain).</summary>
    private sealed class RecordingCall : IOutgoingGrainCallContext
    {
        public string? Seen { get; private set; }

        public Task Invoke()
        {
            Seen = RequestContext.Get(GrainCallCredential.Key) as string;
            return Task.CompletedTask;
        }

        public IInvokable Request => throw new NotSupportedException();
        public object Grain => this;
        public MethodInfo InterfaceMethod => throw new NotSupportedException();
        public object? Result { get; set; }
        public Response? Response { get; set; }
        public GrainId? SourceId => null;
        public GrainId TargetId => default;
        public GrainInterfaceType InterfaceType => default;
        public string InterfaceName => "ITest";
        public string MethodName => "Test";
        public IGrainContext? SourceContext => null;
    }
}

/// <summary>A refused credential is final: retrying the same call with it would be refused again.</summary>
public sealed class RefusalRetryTests
{
    [Fact]
    public void Refusals_are_not_transient_so_the_client_does_not_retry_them()
    {
        Assert.False(NoOrg.Grains.Errors.TransientErrors.IsTransient(new NoOrg.Grains.Errors.UnauthorizedException("no credential")));
        Assert.False(NoOrg.Grains.Errors.TransientErrors.IsTransient(new NoOrg.Grains.Errors.ForbiddenException("wrong role")));
        Assert.True(NoOrg.Grains.Errors.TransientErrors.IsTransient(new NoOrg.Grains.Errors.UnavailableException("database")));
    }
}
