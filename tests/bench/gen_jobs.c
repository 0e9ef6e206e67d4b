/* gen_jobs.c — write N realistic job lines for the ingest benchmark.
 *
 *   usage: gen_jobs N [SEED] > jobs.jsonl
 *
 * Each line is an OpenAI Batch API request as nightshift ingests it: a
 * custom_id like job-00000042, a system prompt from a handful of templates,
 * a user message with a task instruction and a passage, a model from a small
 * set, varied max_tokens, and now and then priority, max_cost_usd or
 * response_format. Lines average about 600 bytes and range from 300 to 1200.
 *
 * The passages are built from a vocabulary of a few thousand English words
 * put in sentence-like order with a skewed word frequency, so the file
 * compresses about as well as real prose does (about 3x with zstd) rather
 * than collapsing to nothing the way repeated paragraphs would. Line i
 * depends only on SEED and i (the generator is reseeded per line), so the
 * first K lines of a run of N are the same as a run of K. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Room for the longest line: a 1200-byte target plus one sentence of slack,
 * with a wide margin. Appends past the end are dropped, never overrun. */
#define LINE_MAX_BYTES 8192

/* Word lists, most common first: pick() favours the front of each list. */
static const char nouns_src[] =
    "time year way day thing world life part place case week company "
    "system program question work government number night point home "
    "water room area money story fact month lot right study book eye job "
    "word business issue side kind head house service friend father power "
    "hour game line end member law car city community name president team "
    "minute idea body information school face level office door health "
    "art war history party result change morning reason research moment "
    "air teacher force education policy process music market sense nation "
    "plan college interest death experience effect class control care "
    "field development role effort rate heart drug show leader light voice "
    "police mind price report decision view relationship town road arm "
    "difference value building action model season society tax director "
    "position player record paper space ground form event official matter "
    "center couple site project activity star table need court oil "
    "situation cost industry figure street image phone data picture "
    "practice piece land product doctor wall patient worker news test "
    "movie north love support technology step baby computer type attention "
    "film tree source organization hair window evidence population truth "
    "method region unit choice condition account color trial response "
    "hospital fund island garden resource river bank brother cell manager "
    "agency window nurse committee surface loss agreement election "
    "material task budget contract shareholder customer supplier invoice "
    "shipment warehouse factory border province district county village "
    "neighborhood port airport station platform network server database "
    "engineer developer scientist professor student lecture seminar course "
    "exam grade semester campus library archive museum gallery theater "
    "concert festival album song singer band audience ticket venue stage "
    "journalist editor newspaper magazine article headline column interview "
    "survey poll voter candidate campaign debate vote ballot parliament "
    "senator minister ministry cabinet council mayor governor judge lawyer "
    "jury verdict lawsuit settlement regulation rule standard license "
    "permit inspection audit investigation inquiry complaint appeal hearing "
    "witness suspect prison sentence fine penalty charge defendant "
    "prosecutor victim officer soldier army navy troop weapon missile "
    "conflict treaty alliance sanction embassy diplomat summit negotiation "
    "proposal bill amendment draft memo letter email message note reminder "
    "schedule deadline meeting agenda minute summary update review feedback "
    "milestone roadmap sprint release version feature bug ticket patch "
    "request query error failure outage incident alert dashboard metric "
    "target forecast estimate revenue profit margin earning dividend stock "
    "share bond loan debt credit deposit payment salary wage pension "
    "benefit insurance premium claim refund discount fee rent mortgage "
    "property apartment tenant landlord neighbor owner buyer seller dealer "
    "retailer brand store shop mall item package parcel delivery order "
    "cart checkout receipt warranty repair replacement battery charger "
    "screen keyboard laptop tablet camera printer router cable sensor "
    "device machine engine motor vehicle truck bus train plane ship boat "
    "bicycle driver passenger pilot crew route journey trip flight "
    "highway bridge tunnel railway track lane traffic accident injury "
    "emergency ambulance clinic surgeon therapy treatment vaccine virus "
    "infection disease symptom diagnosis dose pill prescription pharmacy "
    "insurer researcher laboratory experiment sample specimen protein gene "
    "molecule enzyme receptor tissue organ brain muscle blood bone skin "
    "diet meal breakfast lunch dinner kitchen recipe ingredient flavor "
    "restaurant cafe bakery farmer farm crop harvest wheat rice corn soil "
    "seed fertilizer drought flood storm rainfall temperature climate "
    "emission carbon pollution forest wildlife species habitat ocean coast "
    "beach lake mountain valley desert glacier ice snow wind weather sky "
    "planet satellite telescope orbit rocket launch mission astronaut "
    "energy electricity grid plant reactor turbine panel pipeline fuel gas "
    "coal mine mineral metal steel copper gold silver aluminum plastic "
    "glass wood paper chemical solution mixture liquid pressure volume "
    "speed distance height weight length width depth size shape pattern "
    "structure frame layer edge corner angle circle square line curve "
    "graph chart table row column cell file folder document page chapter "
    "section paragraph sentence phrase term definition concept theory "
    "principle argument claim assumption conclusion finding outcome impact "
    "consequence benefit risk threat danger opportunity challenge problem "
    "solution approach strategy tactic goal objective priority focus "
    "scope range limit boundary threshold ratio share portion fraction "
    "percentage average total sum count amount quantity balance supply "
    "demand growth decline increase decrease rise drop shift trend cycle "
    "phase stage period era decade century generation tradition culture "
    "language religion belief faith value ethic moral principle identity "
    "citizen resident immigrant refugee migrant worker employee employer "
    "staff colleague partner client consumer user visitor guest host "
    "audience fan supporter critic opponent rival competitor winner loser "
    "champion coach athlete league tournament match goal score medal race "
    "marathon stadium arena field court pitch referee injury transfer "
    "contract bonus agent fee union strike protest rally march petition "
    "demonstration movement activist volunteer charity donation donor "
    "grant scholarship foundation institute association federation "
    "network coalition consortium partnership venture startup founder "
    "investor fund portfolio asset liability equity valuation acquisition "
    "merger deal offer bid auction sale purchase transaction transfer "
    "account statement ledger balance audit quarter forecast guidance "
    "outlook economy inflation recession unemployment interest wage "
    "export import tariff trade currency dollar euro pound yen market "
    "exchange index sector commodity barrel ton kilogram meter kilometer "
    "mile acre hectare liter gallon degree percent dozen hundred thousand "
    "million billion minute second hour afternoon evening weekend holiday "
    "vacation anniversary birthday wedding funeral ceremony celebration "
    "parade crowd queue gathering conference workshop panel keynote "
    "speaker presentation slide demo prototype pilot rollout launch "
    "adoption migration upgrade integration interface component module "
    "library framework protocol format specification requirement "
    "constraint dependency configuration setting option parameter value "
    "variable function algorithm model dataset benchmark baseline "
    "experiment evaluation accuracy precision error bias noise signal "
    "pattern anomaly outlier cluster segment category label tag keyword "
    "topic theme subject object target source destination origin address "
    "location position coordinate map guide manual handbook tutorial lesson "
    "skill talent ability capacity strength weakness advantage limitation "
    "feature quality reliability safety security privacy trust reputation "
    "brand image identity logo slogan advertisement promotion coupon "
    "newsletter subscriber subscription channel episode series season "
    "character plot scene script director producer actor actress studio "
    "novel poem poet author writer reader chapter edition publisher "
    "bookstore shelf catalog collection exhibition painting sculpture "
    "photograph portrait landscape design architecture building tower "
    "castle church temple palace monument statue square park playground "
    "zoo aquarium stadium pool gym track trail path avenue corridor hall "
    "lobby elevator stair floor ceiling roof basement garage yard fence "
    "gate porch balcony chimney furnace heater fan lamp bulb switch socket "
    "pipe valve pump tank container box crate pallet bag basket bucket "
    "bottle jar cup plate bowl spoon fork tray towel blanket pillow sheet "
    "curtain carpet mirror clock watch calendar diary notebook pen pencil "
    "marker envelope stamp label sticker badge card wallet purse key lock "
    "tool hammer drill saw ladder rope chain wire hook nail screw bolt";

static const char verbs_src[] =
    "said reported announced found made took gave showed told called "
    "asked used kept began seemed helped turned started moved played "
    "believed brought happened wrote provided held sat stood lost paid "
    "met included continued set learned led understood watched followed "
    "stopped created spoke read allowed added spent grew opened walked "
    "offered remembered considered appeared bought waited served sent "
    "expected built stayed reached raised passed sold required decided "
    "returned explained hoped developed carried broke received agreed "
    "supported hit produced covered caught drew chose wondered described "
    "noted confirmed denied rejected approved launched released revealed "
    "warned urged argued claimed suggested proposed estimated predicted "
    "projected recorded measured tested analyzed reviewed examined "
    "investigated identified detected discovered observed tracked monitored "
    "assessed evaluated compared ranked rated scored cited quoted outlined "
    "summarized highlighted emphasized stressed acknowledged admitted "
    "insisted maintained questioned challenged criticized praised welcomed "
    "celebrated honored thanked invited hosted organized scheduled "
    "postponed delayed canceled suspended resumed extended renewed expanded "
    "reduced cut lowered increased boosted doubled tripled halved slowed "
    "accelerated improved strengthened weakened eased tightened relaxed "
    "restored repaired replaced upgraded installed deployed migrated "
    "integrated tested shipped delivered collected gathered distributed "
    "allocated assigned transferred moved shifted redirected closed merged "
    "acquired invested funded financed borrowed lent owed repaid refunded "
    "charged billed invoiced priced valued appraised audited inspected "
    "certified licensed registered filed submitted signed drafted edited "
    "revised amended updated published printed broadcast posted shared "
    "streamed downloaded uploaded backed restored archived deleted removed "
    "blocked banned restricted limited regulated enforced violated breached "
    "settled resolved negotiated mediated brokered secured won earned "
    "gained attracted drew recruited hired employed trained promoted "
    "appointed elected nominated named chose selected picked preferred "
    "favored opposed resisted protested marched rallied gathered joined "
    "left quit resigned retired fired dismissed replaced succeeded followed "
    "preceded outpaced surpassed exceeded beat defeated lost tied trailed "
    "led dominated controlled managed ran operated directed guided steered "
    "shaped influenced affected changed transformed converted adapted "
    "adjusted tuned balanced stabilized recovered rebounded surged soared "
    "climbed jumped rose fell dropped slipped declined plunged tumbled "
    "collapsed crashed failed struggled suffered endured survived faced "
    "confronted tackled addressed handled processed treated cured healed "
    "vaccinated tested screened diagnosed prescribed admitted discharged "
    "visited toured explored traveled flew drove sailed crossed entered "
    "exited arrived departed landed docked loaded unloaded packed wrapped "
    "labeled sorted counted weighed calculated computed modeled simulated "
    "designed engineered prototyped built assembled manufactured fabricated "
    "produced grew harvested planted watered fed cooked baked served ate "
    "drank tasted enjoyed liked loved hated feared worried doubted trusted "
    "promised pledged vowed committed intended planned prepared practiced "
    "rehearsed performed sang danced painted photographed filmed directed "
    "wrote composed recorded mixed produced edited translated interpreted "
    "explained taught studied researched surveyed interviewed polled "
    "sampled replicated verified validated proved disproved concluded "
    "inferred assumed reasoned argued debated discussed talked chatted "
    "emailed phoned texted messaged notified informed alerted reminded "
    "advised recommended endorsed backed sponsored partnered cooperated "
    "collaborated competed contested disputed sued charged prosecuted "
    "defended convicted acquitted sentenced fined penalized pardoned freed "
    "released detained arrested questioned searched seized raided";

static const char adjs_src[] =
    "new good high old great big small large national young different "
    "long important public bad able political late general full far low "
    "major better economic strong possible whole free military true "
    "federal international special local real best clear recent certain "
    "personal open red difficult available likely short single medical "
    "current wrong private past foreign fine common poor natural "
    "significant similar hot dead central happy serious ready simple left "
    "physical general environmental financial blue democratic dark various "
    "entire close legal religious cold final main green nice huge popular "
    "traditional cultural annual regional digital global quarterly monthly "
    "weekly daily urban rural coastal northern southern eastern western "
    "domestic commercial industrial agricultural technical scientific "
    "academic clinical experimental preliminary initial early primary "
    "secondary additional extra further minor modest moderate slight sharp "
    "steep gradual sudden rapid quick slow steady stable volatile "
    "uncertain unclear unusual rare frequent regular occasional constant "
    "temporary permanent brief lengthy detailed broad narrow wide deep "
    "shallow heavy light thick thin bright dim loud quiet calm busy crowded "
    "empty remote nearby distant direct indirect formal informal official "
    "unofficial independent joint mutual shared collective individual "
    "corporate institutional administrative legislative judicial "
    "executive constitutional electoral parliamentary municipal provincial "
    "regulatory statutory contractual standard premium basic advanced "
    "complex sophisticated innovative creative original unique distinct "
    "specific particular typical ordinary normal average median overall "
    "total net gross fiscal monetary budgetary commercial retail wholesale "
    "competitive profitable sustainable renewable efficient reliable "
    "robust secure safe dangerous risky vulnerable fragile resilient "
    "flexible rigid strict loose tight generous cautious careful careless "
    "aggressive ambitious bold confident optimistic pessimistic skeptical "
    "critical supportive positive negative neutral mixed balanced fair "
    "unfair reasonable excessive adequate sufficient insufficient limited "
    "unlimited extensive comprehensive thorough partial complete "
    "incomplete accurate inaccurate precise approximate exact consistent "
    "inconsistent relevant irrelevant useful useless valuable expensive "
    "cheap affordable costly free paid unpaid overdue outstanding pending "
    "active inactive online offline mobile wireless electric solar nuclear "
    "chemical biological genetic molecular cellular neural cognitive "
    "emotional mental social economic demographic historical ancient "
    "modern contemporary future former previous next upcoming subsequent "
    "following latest newest oldest largest smallest highest lowest "
    "biggest fastest slowest strongest weakest busiest richest poorest "
    "famous notable prominent leading senior junior chief deputy acting "
    "interim founding veteran experienced skilled trained qualified "
    "certified licensed registered approved proposed planned scheduled "
    "delayed canceled disputed controversial sensitive confidential "
    "classified public transparent visible hidden obvious apparent "
    "evident surprising shocking disappointing encouraging impressive "
    "remarkable striking dramatic modest humble proud grateful anxious "
    "nervous worried concerned frustrated angry upset tired hungry healthy "
    "sick injured elderly young adult teenage infant pregnant disabled "
    "wealthy affluent struggling unemployed homeless diverse inclusive "
    "vast tiny massive enormous compact portable durable sturdy smooth "
    "rough soft hard sharp dull fresh stale raw cooked frozen warm cool "
    "wet dry clean dirty noisy silent peaceful violent hostile friendly "
    "welcoming familiar strange foreign exotic local native tropical arctic";

static const char advs_src[] =
    "quickly slowly sharply steadily gradually suddenly rapidly recently "
    "finally eventually initially originally previously currently already "
    "still again also often rarely usually generally typically largely "
    "mostly partly fully nearly almost roughly approximately about "
    "significantly substantially considerably slightly modestly marginally "
    "dramatically heavily strongly firmly clearly openly publicly privately "
    "quietly formally officially jointly separately independently directly "
    "indirectly locally nationally globally widely broadly narrowly "
    "closely carefully thoroughly briefly repeatedly consistently "
    "regularly occasionally frequently seldom later earlier soon afterwards "
    "meanwhile nevertheless however moreover furthermore instead otherwise "
    "therefore consequently accordingly notably particularly especially "
    "specifically primarily mainly chiefly reportedly apparently "
    "reluctantly eagerly willingly deliberately accidentally temporarily "
    "permanently effectively efficiently successfully unexpectedly "
    "surprisingly predictably inevitably ultimately overall overnight";

static const char preps_src[] =
    "in on at for with from to by about after before during over under "
    "between among across through against without within near behind "
    "beyond along around toward despite since until amid following into";

static const char dets_src[] =
    "the the the the a this that its their our every each another some "
    "one no any";

static const char conjs_src[] =
    "and but while although because after before as since so when though "
    "whereas and and but";

static const char first_src[] =
    "James Mary John Patricia Robert Jennifer Michael Linda David "
    "Elizabeth William Barbara Richard Susan Joseph Jessica Thomas Sarah "
    "Charles Karen Daniel Nancy Matthew Lisa Anthony Margaret Mark Sandra "
    "Steven Ashley Paul Kimberly Andrew Emily Joshua Donna Kevin Michelle "
    "Brian Carol George Amanda Edward Melissa Ronald Deborah Timothy "
    "Stephanie Jason Rebecca Ryan Laura Jacob Sharon Gary Cynthia Wei Mei "
    "Li Hiroshi Yuki Aiko Kenji Priya Rahul Anjali Arjun Fatima Omar "
    "Ahmed Layla Hassan Amara Kwame Chidi Ngozi Sipho Lucia Mateo Sofia "
    "Diego Camila Javier Elena Pablo Ingrid Lars Astrid Mikko Anna Jan "
    "Piotr Olga Dmitri Irina Giulia Marco Francesca Luca Chloe Pierre "
    "Camille Hugo Lea Klaus Greta Felix Hannah Noah Emma Liam Olivia";

static const char last_src[] =
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez "
    "Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore "
    "Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
    "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Chen Wang Zhang Liu Yang Huang Zhao Wu Zhou Tanaka Suzuki "
    "Sato Watanabe Kim Park Choi Patel Shah Gupta Singh Kumar Khan Ali "
    "Hussain Okafor Mensah Osei Adeyemi Mbeki Silva Santos Oliveira "
    "Fernandez Costa Rossi Bianchi Ricci Muller Schmidt Schneider Fischer "
    "Weber Dubois Moreau Laurent Bernard Petit Novak Kowalski Ivanov "
    "Petrov Jensen Hansen Nielsen Larsen Berg Lindqvist Virtanen Murphy "
    "Kelly Byrne Walsh";

static const char places_src[] =
    "London Paris Berlin Madrid Rome Lisbon Dublin Amsterdam Brussels "
    "Vienna Prague Warsaw Budapest Stockholm Oslo Copenhagen Helsinki "
    "Athens Istanbul Cairo Lagos Nairobi Accra Johannesburg Casablanca "
    "Dubai Riyadh Mumbai Delhi Bangalore Karachi Dhaka Singapore Jakarta "
    "Manila Bangkok Hanoi Seoul Tokyo Osaka Beijing Shanghai Shenzhen "
    "Hangzhou Taipei Sydney Melbourne Auckland Toronto Montreal Vancouver "
    "Chicago Boston Seattle Denver Atlanta Houston Dallas Phoenix Miami "
    "Detroit Philadelphia Washington Baltimore Portland Austin Nashville "
    "Mexico Lima Bogota Santiago Quito Caracas Havana Ohio Texas Bavaria "
    "Scotland Wales Ontario Quebec Kenya Ghana Nigeria Brazil Argentina "
    "Chile Peru Colombia Canada Germany France Spain Italy Poland Sweden "
    "Norway Finland Japan Korea China India Vietnam Indonesia Egypt "
    "Morocco Turkey Greece Portugal Ireland Austria Switzerland Belgium";

static const char months_src[] =
    "January February March April May June July August September October "
    "November December";

/* Sentence templates. %E determiner, %N noun, %P plural noun, %V verb
 * (past), %A adjective, %D adverb, %R preposition, %C conjunction, %L place,
 * %H person, %U number phrase, %M month, %Y year, %a "a"/"an" chosen by the
 * next word, %q an escaped double quote. */
static const char *const sentences[] = {
    "%E %A %N %V the %N %R the %A %N.",
    "%H, who %V the %N %R %L, %V that the %P were %A.",
    "%D, %a%A %N in %L %V %U %P %R %M.",
    "According to the %N, the %P %V %R the %N %C the %A %N %V %D.",
    "%U %P %V the %A %N %R %Y.",
    "Officials in %L %V that %a%N %V the %N %R %a%A %N.",
    "The %N of the %P %V %D %R the %A %N.",
    "%H %V the %A %N %R %L %R %M %Y.",
    "%q%E %N %V %D,%q %H said.",
    "Several %P %V %R the %N, %C %a%N %V the %P.",
    "%A %P %V %a%A %N %R %L %C the %N %V %U %P.",
    "It was %a%A %N for the %P, %C %H %V the %N %D.",
    "The %N, %a%A %N %R %L, %V %U %P %R %Y.",
    "By %M, the %P had %A %P and %a%A %N.",
    "Questions about the %N %V %R %L %C %H %V %a%N %R the %P.",
    "%E %N %V %D.",
    "%q%E %P %V %E %A %N %R %E %N,%q %V %H, %a%A %N %R %L.",
    "In %Y, %E %A %N %V %U %P, %C %E %N %V %D %R %L.",
    "%H and %H %V the %N %D %R the %N %V.",
    "There were %U %A %P %R the %N %R %M, %V the %N.",
};

static const char *const systems[] = {
    "You are a careful assistant that writes concise, faithful summaries.",
    "You are an analyst. Answer only from the provided text and say so "
    "when the text does not contain the answer.",
    "You are a helpful assistant.",
    "You are an editor at a news agency. Keep names, numbers and dates "
    "exact, and never add facts that are not in the source.",
    "You classify customer messages for a support team and explain your "
    "choice in one short sentence.",
    "You translate business documents faithfully, keeping the original "
    "paragraphs and tone.",
    "You are a research assistant who writes plain-language summaries of "
    "scientific and technical work for a general audience.",
    "You help a busy executive: be brief, lead with the decision or the "
    "risk, and use bullet points.",
};

static const char *const tasks[] = {
    "Summarize the following article in three sentences:",
    "Summarize the meeting notes below as a short list of decisions and "
    "action items:",
    "Write a one-paragraph abstract for the text below:",
    "List the key people, organizations and places mentioned in this "
    "passage:",
    "Classify the sentiment of this text as positive, negative or mixed, "
    "and explain why in one sentence:",
    "Give this passage a headline of at most ten words:",
    "Translate the following text into French:",
    "Translate the following text into Spanish:",
    "Rewrite this paragraph in plain language for a general reader:",
    "What are the three most important claims made in the text below?",
    "Suggest five topic tags for this document:",
    "Summarize this support ticket for the on-call engineer in two "
    "sentences:",
};

static const char json_system[] =
    "You extract structured data from documents. Reply with a single JSON "
    "object and no prose.";

static const char *const json_tasks[] = {
    "Extract every person and organization named in the text. Return JSON "
    "with keys \\\"people\\\" and \\\"organizations\\\", each a list of "
    "strings:",
    "Extract all dates and amounts mentioned below as JSON with keys "
    "\\\"dates\\\" and \\\"amounts\\\":",
    "Return JSON with keys \\\"topic\\\", \\\"sentiment\\\" and "
    "\\\"summary\\\" for this passage:",
};

/* Routes, pinned provider:model pairs and a bare model name, all in the
 * built-in catalogue, weighted by how often each appears. */
static const char *const models[] = {
    "cheap",
    "cheap",
    "cheap",
    "cheap",
    "cheap",
    "cheap",
    "cheap",
    "cheap",
    "cheap",
    "cheap",
    "cheap",
    "qwen:qwen-plus",
    "qwen:qwen-plus",
    "qwen:qwen-plus",
    "qwen:qwen-flash",
    "deepseek:deepseek-flash",
    "gpt-4o-mini",
    "quality",
    "mistral:mistral-small-latest",
    "cheap",
};

static const int max_tokens[] = {64,  128, 200, 256, 300,
				 300, 400, 512, 800, 1024};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct word {
	const char *s;
	size_t n;
};

struct wordlist {
	struct word *w;
	size_t n;
};

struct vocab {
	struct wordlist nouns, verbs, adjs, advs, preps, dets, conjs;
	struct wordlist first, last, places, months;
};

/* The generator's state for one line: output buffer and PRNG. */
struct gen {
	char *buf;
	size_t len;
	uint64_t rng;
	int cap_next;	  /* capitalize the next word (sentence start) */
	int article_next; /* write "a "/"an " before the next word */
};

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* below: uniform integer in [0, n). The bias of the multiply-shift is
 * far below anything a benchmark can notice. */
static size_t below(struct gen *g, size_t n)
{
	return (size_t)(((splitmix64(&g->rng) >> 32) * (uint64_t)n) >> 32);
}

/* pick: an index into a list of n, skewed toward the front a quarter of
 * the time (product of two uniforms), the way word frequencies are. */
static size_t pick(struct gen *g, size_t n)
{
	uint64_t r = splitmix64(&g->rng);
	uint64_t a = r & 0xffffffffu, b = r >> 32;

	if ((a & 3) != 0)
		return (size_t)((b * (uint64_t)n) >> 32);
	return (size_t)((((a * b) >> 32) * (uint64_t)n) >> 32);
}

static void split_words(const char *src, struct wordlist *out)
{
	size_t cap = 64;
	const char *p = src;

	out->w = xmalloc(cap * sizeof(*out->w));
	out->n = 0;
	while (*p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (out->n == cap) {
			cap *= 2;
			out->w = xrealloc(out->w, cap * sizeof(*out->w));
		}
		out->w[out->n].s = p;
		out->w[out->n].n = n;
		out->n++;
		p += n;
	}
}

static void put(struct gen *g, const char *s, size_t n)
{
	if (g->len + n >= LINE_MAX_BYTES)
		return;
	memcpy(g->buf + g->len, s, n);
	g->len += n;
}

static void puts_(struct gen *g, const char *s)
{
	put(g, s, strlen(s));
}

static void put_word(struct gen *g, const char *s, size_t n)
{
	size_t at;

	if (g->article_next) {
		int vowel = strchr("aeiouAEIOU", s[0]) != NULL;

		at = g->len;
		puts_(g, vowel ? "an " : "a ");
		if (g->cap_next && at < g->len)
			g->buf[at] = 'A';
		g->article_next = 0;
		g->cap_next = 0;
	}
	at = g->len;
	put(g, s, n);
	if (g->cap_next && at < g->len && g->buf[at] >= 'a' &&
	    g->buf[at] <= 'z')
		g->buf[at] = (char)(g->buf[at] - 'a' + 'A');
	g->cap_next = 0;
}

static void put_from(struct gen *g, const struct wordlist *l)
{
	const struct word *w = &l->w[pick(g, l->n)];

	put_word(g, w->s, w->n);
}

static void put_plural(struct gen *g, const struct wordlist *l)
{
	const struct word *w = &l->w[pick(g, l->n)];
	const char *s = w->s;
	size_t n = w->n;
	char tmp[64];

	if (n + 3 > sizeof(tmp)) {
		put_word(g, s, n);
		return;
	}
	memcpy(tmp, s, n);
	if (n >= 2 && s[n - 1] == 'y' && !strchr("aeiou", s[n - 2])) {
		memcpy(tmp + n - 1, "ies", 3);
		n += 2;
	} else if (s[n - 1] == 's' || s[n - 1] == 'x' || s[n - 1] == 'z' ||
		   (n >= 2 && s[n - 1] == 'h' && strchr("cs", s[n - 2]))) {
		memcpy(tmp + n, "es", 2);
		n += 2;
	} else {
		tmp[n++] = 's';
	}
	put_word(g, tmp, n);
}

static void put_number(struct gen *g)
{
	char tmp[48];
	int n;

	switch (below(g, 7)) {
	case 0:
		n = snprintf(tmp, sizeof(tmp), "%zu", 2 + below(g, 98));
		break;
	case 1:
		n = snprintf(tmp, sizeof(tmp), "%zu.%zu percent of the",
			     below(g, 60), below(g, 10));
		break;
	case 2:
		n = snprintf(tmp, sizeof(tmp), "nearly %zu,%03zu",
			     1 + below(g, 90), below(g, 1000));
		break;
	case 3:
		n = snprintf(tmp, sizeof(tmp), "more than %zu",
			     10 * (1 + below(g, 50)));
		break;
	case 4:
		n = snprintf(tmp, sizeof(tmp), "about %zu", 3 + below(g, 400));
		break;
	case 5:
		n = snprintf(tmp, sizeof(tmp), "%zu,%03zu", 1 + below(g, 99),
			     below(g, 1000));
		break;
	default:
		n = snprintf(tmp, sizeof(tmp), "%zu", 10 + below(g, 990));
		break;
	}
	if (n > 0)
		put_word(g, tmp, (size_t)n);
}

static void put_sentence(struct gen *g, const struct vocab *v)
{
	const char *t = sentences[below(g, NELEMS(sentences))];
	char tmp[24];
	int n;

	g->cap_next = 1;
	for (; *t; t++) {
		if (*t != '%') {
			char c = *t;

			/* A template's own first word takes the capital. */
			if (g->cap_next && c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if (g->cap_next && c >= 'A' && c <= 'Z')
				g->cap_next = 0;
			put(g, &c, 1);
			continue;
		}
		switch (*++t) {
		case 'E':
			put_from(g, &v->dets);
			break;
		case 'N':
			put_from(g, &v->nouns);
			break;
		case 'P':
			put_plural(g, &v->nouns);
			break;
		case 'V':
			put_from(g, &v->verbs);
			break;
		case 'A':
			put_from(g, &v->adjs);
			break;
		case 'D':
			put_from(g, &v->advs);
			break;
		case 'R':
			put_from(g, &v->preps);
			break;
		case 'C':
			put_from(g, &v->conjs);
			break;
		case 'L':
			put_from(g, &v->places);
			break;
		case 'H':
			put_from(g, &v->first);
			put(g, " ", 1);
			put_from(g, &v->last);
			break;
		case 'M':
			put_from(g, &v->months);
			break;
		case 'Y':
			n = snprintf(tmp, sizeof(tmp), "%zu",
				     1990 + below(g, 36));
			if (n > 0)
				put_word(g, tmp, (size_t)n);
			break;
		case 'U':
			put_number(g);
			break;
		case 'a':
			g->article_next = 1;
			break;
		case 'q':
			put(g, "\\\"", 2);
			break;
		default: /* a template typo: keep going, visibly */
			put(g, "%", 1);
			if (*t == '\0')
				return;
			put(g, t, 1);
			break;
		}
	}
}

/* gen_line: build line i into g->buf; returns its length (no newline). */
static size_t gen_line(struct gen *g, const struct vocab *v, uint64_t seed,
		       uint64_t i)
{
	char tail[256], head[128];
	size_t target, sentences_in_par = 0, tail_len;
	uint64_t u;
	int json = 0, n;

	g->rng = seed * 0xd1342543de82ef95ULL + i;
	(void)splitmix64(&g->rng);
	g->len = 0;
	g->cap_next = g->article_next = 0;

	/* Target length 260 + 820 u^2 (mean 533); the last sentence
	 * overshoots by ~65 bytes on average, so lines run about 300 to 1200
	 * with a mean near 600. */
	u = splitmix64(&g->rng) >> 32;
	target = 260 + (size_t)((((u * u) >> 32) * 820) >> 32);

	n = snprintf(head, sizeof(head), "{\"custom_id\":\"job-%08llu\"",
		     (unsigned long long)i);
	put(g, head, (size_t)n);
	if (below(g, 10) == 0) {
		n = snprintf(head, sizeof(head), ",\"priority\":%zu",
			     1 + below(g, 9));
		put(g, head, (size_t)n);
	}
	if (below(g, 40) == 0) {
		n = snprintf(head, sizeof(head), ",\"max_cost_usd\":0.0%zu",
			     1 + below(g, 9));
		put(g, head, (size_t)n);
	}
	puts_(g, ",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
		 "\"body\":{\"model\":\"");
	puts_(g, models[below(g, NELEMS(models))]);
	puts_(g, "\",\"messages\":[{\"role\":\"system\",\"content\":\"");
	json = below(g, 20) == 0;
	if (json)
		puts_(g, json_system);
	else
		puts_(g, systems[below(g, NELEMS(systems))]);
	puts_(g, "\"},{\"role\":\"user\",\"content\":\"");
	if (json)
		puts_(g, json_tasks[below(g, NELEMS(json_tasks))]);
	else
		puts_(g, tasks[below(g, NELEMS(tasks))]);
	puts_(g, "\\n\\n");

	/* The tail is fixed before the passage so the passage can fill the
	 * line up to its target length. */
	n = snprintf(tail, sizeof(tail), "\"}],\"max_tokens\":%d",
		     max_tokens[below(g, NELEMS(max_tokens))]);
	tail_len = (size_t)n;
	if (below(g, 5) == 0) {
		n = snprintf(tail + tail_len, sizeof(tail) - tail_len,
			     ",\"temperature\":0.%zu", below(g, 10));
		tail_len += (size_t)n;
	}
	if (json) {
		n = snprintf(tail + tail_len, sizeof(tail) - tail_len,
			     ",\"response_format\":{\"type\":\"json_object\"}");
		tail_len += (size_t)n;
	}
	n = snprintf(tail + tail_len, sizeof(tail) - tail_len, "}}");
	tail_len += (size_t)n;

	do {
		if (sentences_in_par > 0) {
			if (below(g, 4) == 0) {
				puts_(g, "\\n\\n");
				sentences_in_par = 0;
			} else {
				puts_(g, " ");
			}
		}
		put_sentence(g, v);
		sentences_in_par++;
	} while (g->len + tail_len < target &&
		 g->len + tail_len + 400 < LINE_MAX_BYTES);
	put(g, tail, tail_len);
	return g->len;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static char outbuf[1 << 20];
	struct vocab v;
	struct gen g;
	uint64_t n = 0, seed = 1, i;
	int rc = 0;

	if (argc < 2 || argc > 3 || parse_u64(argv[1], &n) != 0 ||
	    (argc == 3 && parse_u64(argv[2], &seed) != 0) || n > 99999999ULL) {
		fprintf(stderr, "usage: gen_jobs N [SEED] > jobs.jsonl"
				"  (N <= 99999999)\n");
		return 2;
	}
	split_words(nouns_src, &v.nouns);
	split_words(verbs_src, &v.verbs);
	split_words(adjs_src, &v.adjs);
	split_words(advs_src, &v.advs);
	split_words(preps_src, &v.preps);
	split_words(dets_src, &v.dets);
	split_words(conjs_src, &v.conjs);
	split_words(first_src, &v.first);
	split_words(last_src, &v.last);
	split_words(places_src, &v.places);
	split_words(months_src, &v.months);
	g.buf = xmalloc(LINE_MAX_BYTES);
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	for (i = 0; i < n; i++) {
		size_t len = gen_line(&g, &v, seed, i);

		g.buf[len++] = '\n';
		if (fwrite(g.buf, 1, len, stdout) != len) {
			rc = 1;
			break;
		}
	}
	if (fflush(stdout) != 0)
		rc = 1;
	if (rc != 0)
		perror("gen_jobs: write");

	free(g.buf);
	free(v.nouns.w);
	free(v.verbs.w);
	free(v.adjs.w);
	free(v.advs.w);
	free(v.preps.w);
	free(v.dets.w);
	free(v.conjs.w);
	free(v.first.w);
	free(v.last.w);
	free(v.places.w);
	free(v.months.w);
	return rc;
}
