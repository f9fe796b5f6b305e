using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_SAGAS", "Sagas")]
public sealed class SagasSettings
{
    [Setting("RESUME_PERIOD_SECONDS", "how often an unfinished saga's reminder wakes its coordinator (resumes it after a silo loss); never below the reminder minimum")]
    [Range(1, 86400)]
    public int ResumePeriodSeconds { get; set; } = 60;

    [Setting("TASK_POLL_MILLISECONDS", "how often a saga step run as a NoOrg task checks the task's outcome")]
    [Range(10, 60000)]
    public int TaskPollMilliseconds { get; set; } = 1000;

    [Setting("SCOPE_TIMEOUT_SECONDS", "a compensation scope neither committed nor aborted for this long after its last change is aborted and compensated")]
    [Range(1, 31_536_000)]
    public int ScopeTimeoutSeconds { get; set; } = 3600;

    [Setting("RUN_DEMO", "register the demo saga 'order' (reserve-stock, charge-payment, ship, notify) in the silo")]
    public bool RunDemo { get; set; } = true;
}
