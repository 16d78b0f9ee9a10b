namespace Contention.Tracer.Processes;

/// <summary>How <see cref="ChildStart"/> starts a program (every start resets its signal dispositions and mask).</summary>
[Flags]
public enum ChildOptions
{
    /// <summary>In this process's session and group; it lives on if this process dies.</summary>
    None = 0,

    /// <summary>Stopped (SIGSTOP) before its execve, for a tracer to add it; the caller continues it.</summary>
    Stopped = 1,

    /// <summary>
    /// In a session of its own: a terminal's Ctrl+C (SIGINT to the foreground group), <c>timeout</c>
    /// (which signals its whole group) or a closed terminal do not reach it; its owner stops it.
    /// </summary>
    OwnSession = 2,

    /// <summary>Killed (SIGKILL) by the kernel when this process dies, even by SIGKILL: it never outlives its node.</summary>
    DieWithParent = 4,
}
