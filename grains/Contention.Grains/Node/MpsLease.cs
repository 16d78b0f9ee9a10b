namespace Contention.Grains.Node;

/// <summary>A tenant's use of a GPU's MPS control daemon (<see cref="MpsDaemons"/>).</summary>
/// <param name="Gpu">The GPU, as this node numbers it (<c>cuda:N</c>).</param>
/// <param name="PipeDirectory">The daemon's pipe directory (<c>CUDA_MPS_PIPE_DIRECTORY</c>).</param>
/// <param name="LogDirectory">The daemon's log directory (<c>CUDA_MPS_LOG_DIRECTORY</c>).</param>
/// <param name="DaemonPid">The control daemon's process id.</param>
public sealed record MpsLease(int Gpu, string PipeDirectory, string LogDirectory, int DaemonPid = 0);
