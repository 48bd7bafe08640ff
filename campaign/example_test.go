package campaign_test

import (
	"fmt"
	"log"
	"os"

	"github.com/turbindex/turbindex/campaign"
)

// Planning a campaign: 3 Kolmogorov, 3 Burgers and 2 sweep simulations at
// 32³ on the demo preset, written as a manifest. The same options give the
// same manifest, byte for byte. Splits are stratified per class (a class of
// 3 gets one simulation in each split; a class of 2 goes to train, as
// 0.1·2 rounds to 0 and the one-per-split rule starts at 3).
func ExamplePlan() {
	m, err := campaign.Plan(campaign.PlanOptions{
		Preset: "demo", CampaignSeed: 7, Kolmogorov: 3, Burgers: 3, Sweep: 2, Grid: 32,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Write(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Each row runs with the campaign's parameters and its own index and seed.
	p := m.Run(m.Rows[6])
	fmt.Printf("row %s: n = %.4f, %d³ cells, Mach %g, %g Myr\n", m.Rows[6].ID, p.Index, p.Grid, p.Mach, p.TEndMyr)
	// Output:
	// # turbindex manifest v1
	// # preset=demo
	// # campaign_seed=7
	// # grid=32
	// # tend_myr=0.5
	// # mach=1.41
	// # box_pc=10
	// # temp_k=10
	// # mu=2.37
	// # rho0_cgs=6.77e-22
	// # cfl=0.3
	// # order=2
	// # kmin=1
	// # kmax=0
	// # fields=
	// id,class,index,seed,split
	// kolmogorov-0000,kolmogorov,3.6666666666666665,318725313282802698,test
	// kolmogorov-0001,kolmogorov,3.6666666666666665,15798501269776949876,train
	// kolmogorov-0002,kolmogorov,3.6666666666666665,11768056243785396057,holdout
	// burgers-0000,burgers,4,2618310538960270974,train
	// burgers-0001,burgers,4,4393760213024891111,holdout
	// burgers-0002,burgers,4,8318493578799924186,test
	// sweep-0000,sweep,3.8432346740962924,2013322498776244218,train
	// sweep-0001,sweep,3.53175395650777,4913883644444679885,train
	// row sweep-0000: n = 3.8432, 32³ cells, Mach 1.41, 0.5 Myr
}
