using Microsoft.Extensions.Configuration;

namespace NoOrg.Configuration;

/// <summary>All of NoOrg's settings, one typed class per area, bound and validated together.</summary>
public sealed class NoOrgSettings
{
    internal static readonly Type[] AreaTypes =
    [
        typeof(GeneralSettings), typeof(ClusterSettings), typeof(StorageSettings), typeof(RemindersSettings),
        typeof(DashboardSettings), typeof(HttpSettings), typeof(HealthSettings), typeof(TimeoutSettings),
        typeof(SecuritySettings), typeof(LlmSettings), typeof(AgentsSettings), typeof(TasksSettings),
        typeof(AgentHealthSettings),
        typeof(ThrottlingSettings), typeof(CacheSettings), typeof(ResilienceSettings),
        typeof(OutboxSettings),
        typeof(SagasSettings),
        typeof(ObservabilitySettings),
        typeof(RetentionSettings),
        typeof(AlertsSettings),
    ];

    public GeneralSettings General { get; init; } = new();
    public ClusterSettings Cluster { get; init; } = new();
    public StorageSettings Storage { get; init; } = new();
    public RemindersSettings Reminders { get; init; } = new();
    public DashboardSettings Dashboard { get; init; } = new();
    public HttpSettings Http { get; init; } = new();
    public HealthSettings Health { get; init; } = new();
    public TimeoutSettings Timeouts { get; init; } = new();
    public SecuritySettings Security { get; init; } = new();
    public LlmSettings Llm { get; init; } = new();
    public AgentsSettings Agents { get; init; } = new();
    public TasksSettings Tasks { get; init; } = new();
    public AgentHealthSettings AgentHealth { get; init; } = new();
    public ThrottlingSettings Throttling { get; init; } = new();
    public CacheSettings Cache { get; init; } = new();
    public ResilienceSettings Resilience { get; init; } = new();
    public OutboxSettings Outbox { get; init; } = new();
    public SagasSettings Sagas { get; init; } = new();
    public ObservabilitySettings Observability { get; init; } = new();
    public RetentionSettings Retention { get; init; } = new();
    public AlertsSettings Alerts { get; init; } = new();

    /// <summary>Binds every area and throws one <see cref="ConfigurationValidationException"/> listing every problem.</summary>
    public static NoOrgSettings Load(IConfiguration configuration)
    {
        var errors = new List<SettingError>();
        var settings = new NoOrgSettings
        {
            General = SettingsBinder.Bind<GeneralSettings>(configuration, errors),
            Cluster = SettingsBinder.Bind<ClusterSettings>(configuration, errors),
            Storage = SettingsBinder.Bind<StorageSettings>(configuration, errors),
            Reminders = SettingsBinder.Bind<RemindersSettings>(configuration, errors),
            Dashboard = SettingsBinder.Bind<DashboardSettings>(configuration, errors),
            Http = SettingsBinder.Bind<HttpSettings>(configuration, errors),
            Health = SettingsBinder.Bind<HealthSettings>(configuration, errors),
            Timeouts = SettingsBinder.Bind<TimeoutSettings>(configuration, errors),
            Security = SettingsBinder.Bind<SecuritySettings>(configuration, errors),
            Llm = SettingsBinder.Bind<LlmSettings>(configuration, errors),
            Agents = SettingsBinder.Bind<AgentsSettings>(configuration, errors),
            Tasks = SettingsBinder.Bind<TasksSettings>(configuration, errors),
            AgentHealth = SettingsBinder.Bind<AgentHealthSettings>(configuration, errors),
            Throttling = SettingsBinder.Bind<ThrottlingSettings>(configuration, errors),
            Cache = SettingsBinder.Bind<CacheSettings>(configuration, errors),
            Resilience = SettingsBinder.Bind<ResilienceSettings>(configuration, errors),
            Outbox = SettingsBinder.Bind<OutboxSettings>(configuration, errors),
            Sagas = SettingsBinder.Bind<SagasSettings>(configuration, errors),
            Observability = SettingsBinder.Bind<ObservabilitySettings>(configuration, errors),
            Retention = SettingsBinder.Bind<RetentionSettings>(configuration, errors),
            Alerts = SettingsBinder.Bind<AlertsSettings>(configuration, errors),
        };

        errors.AddRange(settings.Cluster.Validate());
        errors.AddRange(settings.Storage.Validate());
        errors.AddRange(settings.Reminders.Validate(settings.General));
        errors.AddRange(settings.Dashboard.Validate());
        errors.AddRange(settings.Http.Validate());
        errors.AddRange(settings.Security.Validate(settings.General));
        errors.AddRange(settings.Llm.Validate());
        errors.AddRange(settings.Resilience.Validate());
        errors.AddRange(settings.Outbox.Validate());
        errors.AddRange(settings.Observability.Validate());
        errors.AddRange(settings.Retention.Validate());

        // A key that failed to parse is reported once, not again by a rule that saw its default.
        var distinct = errors.DistinctBy(e => (e.Key, e.Problem)).ToArray();
        return distinct.Length == 0 ? settings : throw new ConfigurationValidationException(distinct);
    }
}
