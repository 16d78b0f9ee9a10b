import csv,glob,statistics as st,sys,os
for d in sys.argv[1:]:
  for f in sorted(glob.glob(d+'/sync-*.csv')):
    rows=[list(map(int,r)) for r in csv.reader(open(f)) if r and r[0][0].isdigit()]
    rows=rows[len(rows)//4:]
    gap=[rows[i+1][0]-rows[i][4] for i in range(len(rows)-1)]
    kern=[r[1]-r[0] for r in rows]
    lag=[r[2]-r[1] for r in rows]
    rt=[r[3]-r[1] for r in rows if r[3]>0]
    over=[r[4]-max(r[3],r[2]) for r in rows]
    ret=[r[4]-r[1] for r in rows]
    op=[rows[i+1][4]-rows[i][4] for i in range(len(rows)-1)]
    print(f, len(rows))
    for name,x in [('returned->called',gap),('called->completed',kern),('completed->noticed',lag),('drawn rt',rt),('returned-max(int,not)',over),('completed->returned',ret),('op',op)]:
      x=sorted(x); print('  %-24s med %7d p10 %7d p90 %7d p99 %7d mean %8.0f'%(name,x[len(x)//2],x[len(x)//10],x[len(x)*9//10],x[int(len(x)*.99)],st.mean(x)))
