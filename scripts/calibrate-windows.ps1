<#
.SYNOPSIS
Plays the conformance scenarios against this machine's BITS with every role cast, for the
calibration workflow (.github/workflows/calibrate.yml).

.DESCRIPTION
Run it from the repository root, with Windows PowerShell 5.1 (powershell.exe, not pwsh:
pwsh loads the LocalAccounts and BitsTransfer modules only through a compatibility
session), as an elevated administrator, after

    cargo build --release --example conformance --features windows,cli

It runs target\release\examples\conformance.exe twice:

  <build>-admin   as this administrator: the roles current, filtered, low and identify,
                  and other, a local user this script creates with a random password
                  (member of Users) and names to the runner through BITS_CONFORMANCE_USER,
                  BITS_CONFORMANCE_PASSWORD and BITS_CONFORMANCE_DOMAIN;
  <build>-system  as LocalSystem, through a scheduled task: the role system (and its
                  filtered, low and identify copies).

Each run writes OUTDIR\<build>-<role set>.json (the runner's report) and .log (its
output); <build> is this Windows build (20348, 26100, ...). The script prints each run's
summary line ("N scenarios run, D disagreements, M skipped"). Then it lists the BITS jobs of
all users named "bits-helper-token conformance" (the runner's jobs,
src/windows/conformance/providers.rs): the runner cancels every job it creates, so any
left is a failure; they are cancelled so the machine is clean. The user and the task are
removed whatever happens.

Exit status 0 when every run ran and no job was left; disagreements are measurements,
never failures. 1 when a run crashed (exit status other than 0, a timeout, no report or
no summary line), a job was left, or the setup failed.

-Cleanup only removes the user and the task (the workflow's last step, in case this
script was killed).

.PARAMETER OutDir
Where the reports and logs go (created if missing).

.PARAMETER Runner
The conformance runner (default target\release\examples\conformance.exe).

.PARAMETER TimeoutMinutes
How long one run may take before it is killed and counted as a crash (default 20).

.EXAMPLE
powershell -NoProfile -ExecutionPolicy Bypass -File scripts\calibrate-windows.ps1 -OutDir calibration-out
#>
[CmdletBinding(DefaultParameterSetName = 'Run')]
param(
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Run')]
    [string] $OutDir,

    [Parameter(ParameterSetName = 'Run')]
    [string] $Runner = '',

    [Parameter(ParameterSetName = 'Run')]
    [ValidateRange(1, 600)]
    [int] $TimeoutMinutes = 20,

    [Parameter(Mandatory = $true, ParameterSetName = 'Cleanup')]
    [switch] $Cleanup
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# The second local account (at most 20 characters), the scheduled task that runs the
# runner as LocalSystem, and the display name of every BITS job the runner creates.
$UserName = 'bht-conformance'
$TaskName = 'bits-helper-token-conformance-system'
$JobDisplayName = 'bits-helper-token conformance'
$SummaryPattern = '^\d+ scenarios run, \d+ disagreements, \d+ skipped$'
# Task Scheduler's LastTaskResult before the task has run, and while it runs.
$TaskHasNotRun = 0x41303
$TaskRunning = 0x41301

if ($PSVersionTable.PSEdition -ne 'Desktop') {
    throw 'run this script with Windows PowerShell 5.1 (powershell.exe), not pwsh'
}

function Remove-ConformanceUser {
    $user = Get-LocalUser -Name $UserName -ErrorAction SilentlyContinue
    if ($null -eq $user) {
        return
    }
    $sid = $user.SID.Value
    Remove-LocalUser -SID $user.SID
    # A logon may have made a profile: remove it too.
    try {
        Get-CimInstance -ClassName Win32_UserProfile -Filter "SID = '$sid'" | Remove-CimInstance
    } catch {
        Write-Warning "could not remove the profile of $UserName ($sid): $($_.Exception.Message)"
    }
    Write-Host "removed the local user $UserName"
}

function Unregister-ConformanceTask {
    $task = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    if ($null -eq $task) {
        return
    }
    Stop-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false
    Write-Host "unregistered the scheduled task $TaskName"
}

if ($Cleanup) {
    Unregister-ConformanceTask
    Remove-ConformanceUser
    exit 0
}

# 32 characters, 8 from each class (upper, lower, digit, symbol): random, and complex
# enough for any password policy.
function New-RandomPassword {
    $classes = @('ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '-_.+=!#%')
    $bytes = New-Object byte[] 32
    $rng = [System.Security.Cryptography.RandomNumberGenerator]::Create()
    try {
        $rng.GetBytes($bytes)
    } finally {
        $rng.Dispose()
    }
    $password = New-Object System.Text.StringBuilder
    for ($i = 0; $i -lt $bytes.Length; $i++) {
        $class = $classes[$i % $classes.Length]
        $null = $password.Append($class[$bytes[$i] % $class.Length])
    }
    $password.ToString()
}

# Creates the second local user (replacing a leftover of an earlier run) and returns its
# password. It is a member of Users, which may log on locally (LogonUserW, interactive).
function New-ConformanceUser {
    Remove-ConformanceUser
    $password = New-RandomPassword
    Write-Host "::add-mask::$password"
    $secure = ConvertTo-SecureString -String $password -AsPlainText -Force
    $null = New-LocalUser -Name $UserName -Password $secure -PasswordNeverExpires `
        -AccountNeverExpires -UserMayNotChangePassword `
        -Description 'bits-helper-token calibration (temporary)'
    try {
        # S-1-5-32-545: BUILTIN\Users, whatever the system's language.
        Add-LocalGroupMember -SID 'S-1-5-32-545' -Member $UserName
    } catch {
        if ($_.FullyQualifiedErrorId -notlike 'MemberExists*') {
            throw
        }
    }
    Write-Host "created the local user $UserName (member of Users) for the role other"
    $password
}

# Prints a run's output and its summary line; records a failure if the run crashed.
function Complete-Run {
    param(
        [string] $Name,
        [string] $Report,
        [string] $Log,
        [string] $Problem
    )
    $lines = @()
    if (Test-Path -LiteralPath $Log) {
        $lines = @(Get-Content -LiteralPath $Log -Encoding UTF8)
    }
    Write-Host "::group::${Name}: the runner's output"
    $lines | ForEach-Object { Write-Host $_ }
    Write-Host '::endgroup::'
    # The roles cast, outside the group.
    $lines | Where-Object { $_ -match '^\s+role ' } | ForEach-Object { Write-Host $_ }
    $summary = $lines | Where-Object { $_ -match $SummaryPattern } | Select-Object -Last 1
    if (-not $Problem) {
        if (-not (Test-Path -LiteralPath $Report)) {
            $Problem = "wrote no report ($Report)"
        } elseif (-not $summary) {
            $Problem = 'printed no summary line'
        }
    }
    if ($Problem) {
        Write-Host "::error::${Name}: the conformance runner crashed: $Problem"
        $failures.Add("${Name}: $Problem")
    } else {
        Write-Host "${Name}: $summary"
    }
}

# The runner as this process's user, with the second account in the environment.
function Invoke-AsAdministrator {
    param([string] $Name, [string] $Report, [string] $Log)
    $errLog = "$Log.stderr"
    $problem = ''
    Remove-Item -LiteralPath $Report, $Log, $errLog -ErrorAction SilentlyContinue
    $p = Start-Process -FilePath $Runner -ArgumentList @('--report', "`"$Report`"") `
        -WorkingDirectory $OutDir -RedirectStandardOutput $Log -RedirectStandardError $errLog `
        -NoNewWindow -PassThru
    # Holding the handle keeps the exit code readable once the process has exited.
    $null = $p.Handle
    if ($p.WaitForExit($TimeoutMinutes * 60 * 1000)) {
        $p.WaitForExit()
        if ($p.ExitCode -ne 0) {
            $problem = "exit status $($p.ExitCode)"
        }
    } else {
        Stop-Process -Id $p.Id -Force
        $problem = "still running after $TimeoutMinutes minutes (killed)"
    }
    if ((Test-Path -LiteralPath $errLog) -and (Get-Item -LiteralPath $errLog).Length -gt 0) {
        Get-Content -LiteralPath $errLog -Encoding UTF8 | ForEach-Object { Write-Host "${Name} stderr: $_" }
    }
    Complete-Run -Name $Name -Report $Report -Log $Log -Problem $problem
}

# The runner as LocalSystem: a scheduled task (cmd.exe, so that its output goes to the log
# and its exit status is the task's LastTaskResult), started, waited for, unregistered.
function Invoke-AsSystem {
    param([string] $Name, [string] $Report, [string] $Log)
    $problem = ''
    Remove-Item -LiteralPath $Report, $Log -ErrorAction SilentlyContinue
    Unregister-ConformanceTask
    $cmd = Join-Path $env:SystemRoot 'System32\cmd.exe'
    # /s: cmd strips the outer quotes and runs the rest as written.
    $arguments = '/d /s /c ""{0}" --report "{1}" > "{2}" 2>&1"' -f $Runner, $Report, $Log
    $action = New-ScheduledTaskAction -Execute $cmd -Argument $arguments -WorkingDirectory $OutDir
    $principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
    $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes $TimeoutMinutes) `
        -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -MultipleInstances IgnoreNew
    $null = Register-ScheduledTask -TaskName $TaskName -Action $action -Principal $principal -Settings $settings
    try {
        Start-ScheduledTask -TaskName $TaskName
        $deadline = (Get-Date).AddMinutes($TimeoutMinutes + 1)
        do {
            Start-Sleep -Seconds 2
            $state = (Get-ScheduledTask -TaskName $TaskName).State
            $result = (Get-ScheduledTaskInfo -TaskName $TaskName).LastTaskResult
            $done = ($state -eq 'Ready') -and ($result -ne $TaskHasNotRun) -and ($result -ne $TaskRunning)
        } until ($done -or ((Get-Date) -gt $deadline))
        if (-not $done) {
            Stop-ScheduledTask -TaskName $TaskName
            # In case stopping the task left cmd.exe's child running.
            Get-CimInstance -ClassName Win32_Process -Filter "Name = 'conformance.exe'" |
                Where-Object { $_.ExecutablePath -eq $Runner } |
                ForEach-Object { Stop-Process -Id $_.ProcessId -Force }
            $problem = "still running after $TimeoutMinutes minutes (task state $state; stopped)"
        } elseif ($result -ne 0) {
            $problem = 'exit status {0} (LastTaskResult 0x{0:X8})' -f $result
        }
    } finally {
        Unregister-ConformanceTask
    }
    Complete-Run -Name $Name -Report $Report -Log $Log -Problem $problem
}

# Every BITS job of every user that the runner created and did not cancel: each is
# reported, then cancelled.
function Test-LeftoverJobs {
    Import-Module BitsTransfer
    $left = @(Get-BitsTransfer -AllUsers |
            Where-Object { $_.DisplayName -eq $JobDisplayName -and "$($_.JobState)" -ne 'Cancelled' })
    if ($left.Count -eq 0) {
        Write-Host "no BITS job named '$JobDisplayName' is left (all users)"
        return
    }
    foreach ($job in $left) {
        $what = '{0} (owner {1}, state {2})' -f $job.JobId, $job.OwnerAccount, $job.JobState
        Write-Host "::error::a BITS job of the runner's was left uncancelled: $what"
    }
    try {
        $left | Remove-BitsTransfer -Confirm:$false
        Write-Host "cancelled the $($left.Count) job(s) left"
    } catch {
        Write-Warning "could not cancel every job left: $($_.Exception.Message)"
    }
    $failures.Add("$($left.Count) BITS job(s) named '$JobDisplayName' left uncancelled")
}

$failures = New-Object 'System.Collections.Generic.List[string]'

if (-not $Runner) {
    $Runner = Join-Path $PSScriptRoot '..\target\release\examples\conformance.exe'
}
$Runner = (Resolve-Path -LiteralPath $Runner).Path
$OutDir = (New-Item -ItemType Directory -Force -Path $OutDir).FullName
$build = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -Name CurrentBuildNumber).CurrentBuildNumber
Write-Host "Windows build $build; runner $Runner; reports in $OutDir"

try {
    # Role set admin: this elevated administrator, and the second account.
    $name = "$build-admin"
    try {
        $password = New-ConformanceUser
        $env:BITS_CONFORMANCE_USER = $UserName
        $env:BITS_CONFORMANCE_PASSWORD = $password
        $env:BITS_CONFORMANCE_DOMAIN = '.'
    } catch {
        Write-Host "::error::could not create the local user ${UserName}: $($_.Exception.Message)"
        $failures.Add("setup: no second user ($($_.Exception.Message)); the role other is not cast")
    }
    try {
        Invoke-AsAdministrator -Name $name -Report (Join-Path $OutDir "$name.json") -Log (Join-Path $OutDir "$name.log")
    } catch {
        Write-Host "::error::${name}: $($_.Exception.Message)"
        $failures.Add("${name}: $($_.Exception.Message)")
    } finally {
        Remove-Item -Path 'Env:BITS_CONFORMANCE_USER', 'Env:BITS_CONFORMANCE_PASSWORD', 'Env:BITS_CONFORMANCE_DOMAIN' `
            -ErrorAction SilentlyContinue
    }

    # Role set system: LocalSystem.
    $name = "$build-system"
    try {
        Invoke-AsSystem -Name $name -Report (Join-Path $OutDir "$name.json") -Log (Join-Path $OutDir "$name.log")
    } catch {
        Write-Host "::error::${name}: $($_.Exception.Message)"
        $failures.Add("${name}: $($_.Exception.Message)")
    }

    # Before the user goes: its jobs, if any, are among those listed.
    try {
        Test-LeftoverJobs
    } catch {
        Write-Host "::error::could not list the BITS jobs of all users: $($_.Exception.Message)"
        $failures.Add("the BITS jobs of all users could not be listed: $($_.Exception.Message)")
    }
} finally {
    Unregister-ConformanceTask
    Remove-ConformanceUser
}

if ($failures.Count -gt 0) {
    Write-Host "calibrate-windows: $($failures.Count) failure(s):"
    $failures | ForEach-Object { Write-Host "  $_" }
    exit 1
}
Write-Host 'calibrate-windows: every run ran, no job was left (disagreements are measurements)'
exit 0
