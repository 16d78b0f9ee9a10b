import sys, time
t0 = time.time()
import torch
try:
    import torchvision
    model = torchvision.models.resnet50().cuda()
    kind = 'resnet50'
except Exception:
    model = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU()) for _ in range(16)]).cuda()
    kind = 'convstack'
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(64, 3, 224, 224, device='cuda') if kind == 'resnet50' else torch.randn(64, 64, 56, 56, device='cuda')
def step():
    opt.zero_grad(set_to_none=True)
    out = model(x)
    out.float().mean().backward()
    opt.step()
    torch.cuda.synchronize()
for _ in range(10): step()
print(f'model={kind} startup_s={time.time()-t0:.2f}', flush=True)
steady = float(sys.argv[1]) if len(sys.argv) > 1 else 30
t1 = time.time(); n = 0
while time.time() - t1 < steady:
    step(); n += 1
print(f'steady steps={n} step_ms={(time.time()-t1)/n*1000:.2f} total_s={time.time()-t0:.2f}', flush=True)
