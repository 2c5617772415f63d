package eventgen

// The wikis, their languages and namespaces. Weights are rough shares of
// the recentchange traffic (Wikidata, Commons and the English Wikipedia
// dominate); the revision, page and user counters start near the wikis'
// real sizes, so that ids look like production ids.

type family uint8

const (
	wikipedia family = iota
	wiktionary
	wikisource
	wikidata
	commons
	metawiki
	mediawikiwiki
	species
)

// Namespace ids (MediaWiki's NS_* constants and extensions' namespaces).
const (
	nsSpecial  = -1
	nsMain     = 0
	nsTalk     = 1
	nsUser     = 2
	nsUserTalk = 3
	nsProject  = 4
	nsFile     = 6
	nsTemplate = 10
	nsCategory = 14
	nsDraft    = 118 // English Wikipedia only
	nsProperty = 120 // Wikidata
	nsLexeme   = 146 // Wikidata
	nsModule   = 828
)

// lang holds what a wiki's content language changes in events: namespace
// names, edit summaries, titles and the summaries MediaWiki writes itself.
type lang struct {
	code string
	// Local names of the Talk, User, User talk, File, Template, Category,
	// Module and Special namespaces.
	talk, user, userTalk, file, template, category, module, special string
	// wikipedia is the project namespace of the Wikipedia in this language.
	wikipedia string

	sections, summaries []string // section names and edit summaries
	titles              []string // main-namespace titles; {Y} becomes a year
	categories          []string // category names; {Y} becomes a year
	leads               []string // openings of new articles: %[1]s the title, %[2]s a place

	// Summaries and log texts MediaWiki writes itself; "" falls back to
	// English. created has the page's text start as %s, catAdded and
	// catRemoved the page.
	created, catAdded, catRemoved string
	newUser, autoCreate           string // log_action_comment of newusers/create and newusers/autocreate
}

var langEN = &lang{
	code: "en", talk: "Talk", user: "User", userTalk: "User talk", file: "File", template: "Template",
	category: "Category", module: "Module", special: "Special", wikipedia: "Wikipedia",
	sections: []string{"Early life", "Career", "History", "References", "External links", "Personal life",
		"Geography", "Track listing", "Reception", "Demographics", "2025–26 season", "Filmography"},
	summaries: []string{"ce", "copyedit", "typo", "+ref", "fixed typo", "Added citation", "expand",
		"rm unsourced claim per [[WP:BLP]]", `clarify "as of" date`, "update stats for the 2025–26 season",
		"Replaced 'colour' with 'color' per [[MOS:ENGVAR]]", "added <ref> to the source", "R&D section tidied",
		"Fix [[Special:LintErrors|lint errors]]", "per talk page consensus", "wikilinks", "better image",
		`Adding [[Wikipedia:Short description|short description]]: "Village in Poland"`,
		"Importing Wikidata [[Wikipedia:Short description|short description]]: \"Species of beetle\"",
		"Reverted good faith edits: unsourced", "→ infobox & lead", "removed <br /> tags", "cleanup (AWB)"},
	titles: []string{"Łódź Fabryczna railway station", "São João del-Rei", "Zoë Hartmann", "Siobhán O'Connell",
		"List of churches in Kraków", "{Y} in Norwegian music", "Battle of Tannenberg ({Y})", "Fox & Hound (band)",
		`"Blue Skies" ({Y} song)`, "Harbor Point (Maryland)", "Nguyễn Văn An (footballer)", "Reykjavík Art Museum",
		"Ahmed Al-Farsi", "Mount Kosciuszko", "Saint-Étienne Cathedral", "List of tallest buildings in Zürich",
		"{Y} FIFA World Cup qualification", "Bjørn Olsen (politician)", "The Quiet Harbour", "Río Grande de Cagayan"},
	categories: []string{"{Y} births", "{Y} deaths", "Living people", "Villages in Masovian Voivodeship",
		"Articles with short description", "Churches in Kraków", "American women novelists", "Beetles described in {Y}",
		"Railway stations opened in {Y}", "All articles with unsourced statements"},
	leads: []string{"'''%[1]s''' is a village in [[%[2]s]], in east-central [[Poland]].<ref>{{cite web |title=GUS & TERYT |url=https://eteryt.stat.gov.pl/}}</ref>",
		"'''%[1]s''' (born {Y}) is a footballer who plays as a midfielder for [[%[2]s]].",
		"{{Short description|Species of beetle}} '''%[1]s''' is a species of beetle in the family [[Carabidae]]. It was described in {Y}."},
	created:  `Created page with "%s"`,
	catAdded: "[[:%s]] added to category", catRemoved: "[[:%s]] removed from category",
	newUser: "New user account", autoCreate: "Account created automatically",
}

var langs = []*lang{
	langEN,
	{
		code: "de", talk: "Diskussion", user: "Benutzer", userTalk: "Benutzer Diskussion", file: "Datei", template: "Vorlage",
		category: "Kategorie", module: "Modul", special: "Spezial", wikipedia: "Wikipedia",
		sections: []string{"Leben", "Einzelnachweise", "Geschichte", "Weblinks", "Werke", "Geographie"},
		summaries: []string{"Tippfehler korrigiert", "Belege ergänzt", "+ Einzelnachweis", "erg.", "Links aktualisiert",
			"Kategorie ergänzt", "form", "„Quelle“ statt „Source“", "Überarbeitung & Aktualisierung", "Wikilinks"},
		titles: []string{"Liste der Baudenkmäler in Würzburg", "Kölner Dom", "Jörg Müller (Politiker)", "Straßenbahn Görlitz",
			"Fußball-Weltmeisterschaft {Y}", "Schloss Neuschwanstein", "Äußere Neustadt", "Bahnhof Zürich Oerlikon"},
		categories: []string{"Person (Würzburg)", "Geboren {Y}", "Baudenkmal in Würzburg", "Mann", "Frau"},
		leads:      []string{"'''%[1]s''' ist ein Ortsteil von [[%[2]s]] in [[Bayern]].<ref>Bayerisches Landesamt für Statistik</ref>"},
		created:    "Die Seite wurde neu angelegt: „%s“",
		catAdded:   "[[:%s]] zur Kategorie hinzugefügt", catRemoved: "[[:%s]] aus der Kategorie entfernt",
		newUser: "Neues Benutzerkonto", autoCreate: "Das Benutzerkonto wurde automatisch erstellt",
	},
	{
		code: "fr", talk: "Discussion", user: "Utilisateur", userTalk: "Discussion utilisateur", file: "Fichier", template: "Modèle",
		category: "Catégorie", module: "Module", special: "Spécial", wikipedia: "Wikipédia",
		sections: []string{"Biographie", "Notes et références", "Histoire", "Géographie", "Liens externes"},
		summaries: []string{"orthographe", "ajout de source", "mise à jour", "Correction d'une faute de frappe", "+ référence",
			"Liens", "typographie : « » et espaces insécables", "relecture & wikification"},
		titles: []string{"Château de Versailles", "Église Saint-Étienne de Beauvais", "Liste des monuments historiques de Lyon",
			"Élection présidentielle française de {Y}", "Saint-Jean-d'Angély", "Hélène Dupré"},
		categories: []string{"Naissance en {Y}", "Commune dans la Charente-Maritime", "Monument historique à Lyon"},
		leads:      []string{"'''%[1]s''' est une commune française située dans le département de [[%[2]s]]."},
		created:    "Page créée avec « %s »",
		catAdded:   "[[:%s]] ajoutée à la catégorie", catRemoved: "[[:%s]] retirée de la catégorie",
		newUser: "Nouveau compte utilisateur", autoCreate: "Compte créé automatiquement",
	},
	{
		code: "es", talk: "Discusión", user: "Usuario", userTalk: "Usuario discusión", file: "Archivo", template: "Plantilla",
		category: "Categoría", module: "Módulo", special: "Especial", wikipedia: "Wikipedia",
		sections:   []string{"Biografía", "Referencias", "Historia", "Enlaces externos"},
		summaries:  []string{"Corrección ortográfica", "Añadiendo referencias", "actualización", "Retirando enlace", "ampliación"},
		titles:     []string{"Iglesia de San Martín (Segovia)", "Estación de Atocha", "Año {Y}", "José Martínez Peñalver", "Peñíscola"},
		categories: []string{"Nacidos en {Y}", "Localidades de la provincia de Segovia"},
		leads:      []string{"'''%[1]s''' es un municipio de la provincia de [[%[2]s]], en [[España]]."},
		created:    "Página creada con «%s»",
		catAdded:   "[[:%s]] añadida a la categoría", catRemoved: "[[:%s]] eliminada de la categoría",
	},
	{
		code: "ru", talk: "Обсуждение", user: "Участник", userTalk: "Обсуждение участника", file: "Файл", template: "Шаблон",
		category: "Категория", module: "Модуль", special: "Служебная", wikipedia: "Википедия",
		sections:   []string{"Биография", "Примечания", "История", "Ссылки"},
		summaries:  []string{"оформление", "уточнение", "+ источник", "викификация", "дополнение", "стилевые правки"},
		titles:     []string{"Санкт-Петербург", "Битва при Бородине", "Список станций Московского метрополитена", "Ёлкино", "Чемпионат России по футболу {Y}"},
		categories: []string{"Родившиеся в {Y} году", "Населённые пункты Тверской области"},
		leads:      []string{"'''%[1]s''' — деревня в [[%[2]s]] [[Россия|России]]."},
		created:    "Новая страница: «%s»",
		catAdded:   "[[:%s]] добавлена в категорию", catRemoved: "[[:%s]] удалена из категории",
	},
	{
		code: "ja", talk: "ノート", user: "利用者", userTalk: "利用者‐会話", file: "ファイル", template: "Template",
		category: "Category", module: "モジュール", special: "特別", wikipedia: "Wikipedia",
		sections:   []string{"経歴", "脚注", "概要", "歴史", "外部リンク"},
		summaries:  []string{"出典追加", "誤字修正", "リンク修正", "内部リンク", "+カテゴリ", "「要出典」を除去"},
		titles:     []string{"東京都", "新宿駅", "{Y}年の日本", "山田太郎 (政治家)", "富士山", "大阪市営地下鉄"},
		categories: []string{"{Y}年生", "日本の駅", "存命人物"},
		leads:      []string{"'''%[1]s'''は、[[%[2]s]]にある[[駅]]である。"},
		created:    "ページの作成:「%s」",
		catAdded:   "[[:%s]]をカテゴリに追加", catRemoved: "[[:%s]]をカテゴリから除去",
	},
	{
		code: "it", talk: "Discussione", user: "Utente", userTalk: "Discussioni utente", file: "File", template: "Template",
		category: "Categoria", module: "Modulo", special: "Speciale", wikipedia: "Wikipedia",
		sections:   []string{"Biografia", "Note", "Storia", "Collegamenti esterni"},
		summaries:  []string{"correzione", "fix", "aggiunta fonte", "wikilink", "+ bibliografia", "sistemazione"},
		titles:     []string{"Chiesa di San Michele (Lucca)", "Stazione di Milano Centrale", "Campionato italiano di calcio {Y}", "Niccolò Paganini"},
		categories: []string{"Nati nel {Y}", "Chiese di Lucca"},
	},
	{
		code: "zh", talk: "Talk", user: "User", userTalk: "User talk", file: "File", template: "Template",
		category: "Category", module: "Module", special: "Special", wikipedia: "Wikipedia",
		sections:   []string{"生平", "参考文献", "历史", "外部链接"},
		summaries:  []string{"修正错字", "增加来源", "更新", "内部链接", "+分类"},
		titles:     []string{"上海站", "{Y}年中国", "北京地铁", "李白", "長江"},
		categories: []string{"{Y}年出生", "上海市铁路车站"},
	},
	{
		code: "pl", talk: "Dyskusja", user: "Wikipedysta", userTalk: "Dyskusja wikipedysty", file: "Plik", template: "Szablon",
		category: "Kategoria", module: "Moduł", special: "Specjalna", wikipedia: "Wikipedia",
		sections:   []string{"Życiorys", "Przypisy", "Historia", "Linki zewnętrzne"},
		summaries:  []string{"drobne redakcyjne", "lit.", "źródła", "int.", "aktualizacja"},
		titles:     []string{"Łódź", "Kościół św. Józefa w Krakowie", "Gmina Źródła", "Mistrzostwa Polski w piłce nożnej {Y}"},
		categories: []string{"Urodzeni w {Y}", "Wsie w województwie mazowieckim"},
	},
	{
		code: "pt", talk: "Discussão", user: "Usuário", userTalk: "Usuário Discussão", file: "Ficheiro", template: "Predefinição",
		category: "Categoria", module: "Módulo", special: "Especial", wikipedia: "Wikipédia",
		sections:   []string{"Biografia", "Referências", "História", "Ligações externas"},
		summaries:  []string{"correção", "+ fontes", "ajuste", "wikificação", "atualização"},
		titles:     []string{"São Paulo", "Igreja de São Francisco (Salvador)", "Campeonato Brasileiro de Futebol de {Y}", "João Gonçalves"},
		categories: []string{"Nascidos em {Y}", "Municípios de São Paulo"},
	},
	{
		code: "uk", talk: "Обговорення", user: "Користувач", userTalk: "Обговорення користувача", file: "Файл", template: "Шаблон",
		category: "Категорія", module: "Модуль", special: "Спеціальна", wikipedia: "Вікіпедія",
		sections:   []string{"Життєпис", "Примітки", "Історія", "Посилання"},
		summaries:  []string{"оформлення", "+ джерело", "вікіфікація", "уточнення"},
		titles:     []string{"Київ", "Львівська політехніка", "Список пам'яток Одеси", "Чемпіонат України з футболу {Y}"},
		categories: []string{"Народились {Y}", "Села Київської області"},
	},
	{
		code: "ar", talk: "نقاش", user: "مستخدم", userTalk: "نقاش المستخدم", file: "ملف", template: "قالب",
		category: "تصنيف", module: "وحدة", special: "خاص", wikipedia: "ويكيبيديا",
		sections:   []string{"مراجع", "حياته", "تاريخ"},
		summaries:  []string{"تدقيق إملائي", "إضافة مصدر", "تحديث", "بوت: إضافة تصنيف"},
		titles:     []string{"القاهرة", "محمد الحسن", "كأس العالم لكرة القدم {Y}"},
		categories: []string{"مواليد {Y}"},
	},
	{
		code: "fa", talk: "بحث", user: "کاربر", userTalk: "بحث کاربر", file: "پرونده", template: "الگو",
		category: "رده", module: "پودمان", special: "ویژه", wikipedia: "ویکی‌پدیا",
		sections:   []string{"منابع", "زندگی‌نامه"},
		summaries:  []string{"ویرایش جزئی", "افزودن منبع", "اصلاح املایی"},
		titles:     []string{"تهران", "حافظ", "جام جهانی فوتبال {Y}"},
		categories: []string{"زادگان {Y}"},
	},
	{
		code: "he", talk: "שיחה", user: "משתמש", userTalk: "שיחת משתמש", file: "קובץ", template: "תבנית",
		category: "קטגוריה", module: "יחידה", special: "מיוחד", wikipedia: "ויקיפדיה",
		sections:   []string{"קישורים חיצוניים", "ביוגרפיה", "הערות שוליים"},
		summaries:  []string{"תיקון", "הוספת מקור", "עדכון"},
		titles:     []string{"תל אביב-יפו", "ירושלים", "אליפות ישראל בכדורגל {Y}"},
		categories: []string{"ילידי {Y}"},
	},
	{
		code: "nl", talk: "Overleg", user: "Gebruiker", userTalk: "Overleg gebruiker", file: "Bestand", template: "Sjabloon",
		category: "Categorie", module: "Module", special: "Speciaal", wikipedia: "Wikipedia",
		sections:   []string{"Biografie", "Externe links", "Geschiedenis"},
		summaries:  []string{"typo", "bron toegevoegd", "aanvulling", "linkfix"},
		titles:     []string{"Lijst van rijksmonumenten in Utrecht", "IJsselmeer", "Eredivisie {Y}/{Y}"},
		categories: []string{"Nederlands persoon", "Rijksmonument in Utrecht"},
	},
	{
		code: "sv", talk: "Diskussion", user: "Användare", userTalk: "Användardiskussion", file: "Fil", template: "Mall",
		category: "Kategori", module: "Modul", special: "Special", wikipedia: "Wikipedia",
		sections:   []string{"Referenser", "Historia", "Externa länkar"},
		summaries:  []string{"stavning", "källa", "länkfix"},
		titles:     []string{"Göteborg", "Åre kommun", "Allsvenskan {Y}"},
		categories: []string{"Födda {Y}", "Orter i Åre kommun"},
	},
	{
		code: "ko", talk: "토론", user: "사용자", userTalk: "사용자토론", file: "파일", template: "틀",
		category: "분류", module: "모듈", special: "특수", wikipedia: "위키백과",
		sections:   []string{"각주", "생애", "역사"},
		summaries:  []string{"오타 수정", "출처 추가", "분류 추가"},
		titles:     []string{"서울특별시", "김민수 (축구 선수)", "{Y}년 대한민국"},
		categories: []string{"{Y}년 태어남"},
	},
	{
		code: "vi", talk: "Thảo luận", user: "Thành viên", userTalk: "Thảo luận Thành viên", file: "Tập tin", template: "Bản mẫu",
		category: "Thể loại", module: "Mô đun", special: "Đặc biệt", wikipedia: "Wikipedia",
		sections:   []string{"Tham khảo", "Tiểu sử", "Lịch sử"},
		summaries:  []string{"sửa lỗi chính tả", "thêm nguồn", "cập nhật"},
		titles:     []string{"Thành phố Hồ Chí Minh", "Hà Nội", "Giải bóng đá Vô địch Quốc gia {Y}"},
		categories: []string{"Sinh năm {Y}"},
	},
	{
		code: "id", talk: "Pembicaraan", user: "Pengguna", userTalk: "Pembicaraan Pengguna", file: "Berkas", template: "Templat",
		category: "Kategori", module: "Modul", special: "Istimewa", wikipedia: "Wikipedia",
		sections:   []string{"Referensi", "Sejarah", "Pranala luar"},
		summaries:  []string{"perbaikan ejaan", "menambah referensi", "pembaruan"},
		titles:     []string{"Jakarta", "Candi Borobudur", "Liga 1 {Y}"},
		categories: []string{"Kelahiran {Y}"},
	},
	{
		code: "tr", talk: "Tartışma", user: "Kullanıcı", userTalk: "Kullanıcı mesaj", file: "Dosya", template: "Şablon",
		category: "Kategori", module: "Modül", special: "Özel", wikipedia: "Vikipedi",
		sections:   []string{"Kaynakça", "Hayatı", "Tarihçe"},
		summaries:  []string{"yazım düzeltmesi", "kaynak eklendi", "güncelleme"},
		titles:     []string{"İstanbul", "Çanakkale Savaşı", "{Y} Süper Lig"},
		categories: []string{"{Y} doğumlular"},
	},
	{
		code: "cs", talk: "Diskuse", user: "Wikipedista", userTalk: "Diskuse s wikipedistou", file: "Soubor", template: "Šablona",
		category: "Kategorie", module: "Modul", special: "Speciální", wikipedia: "Wikipedie",
		sections:   []string{"Reference", "Život", "Historie"},
		summaries:  []string{"oprava překlepu", "doplnění zdroje", "aktualizace"},
		titles:     []string{"Praha", "Český Krumlov", "Fotbalová liga {Y}"},
		categories: []string{"Narození v roce {Y}"},
	},
}

func langByCode(code string) *lang {
	for _, l := range langs {
		if l.code == code {
			return l
		}
	}
	return langEN
}

// wikiInfo is one wiki. rev, page and users approximate the wiki's sizes
// (2025): the counters of revisions, pages and users start there.
type wikiInfo struct {
	db, domain, lang string
	fam              family
	weight           float64
	rcPatrol         bool // $wgUseRCPatrol: recentchange carries patrolled and notify_url an rcid for edits
	rev, page, users int64
}

var wikiTable = []wikiInfo{
	{"wikidatawiki", "www.wikidata.org", "en", wikidata, 28, true, 2_390_000_000, 131_000_000, 7_400_000},
	{"commonswiki", "commons.wikimedia.org", "en", commons, 18, true, 1_080_000_000, 172_000_000, 16_000_000},
	{"enwiki", "en.wikipedia.org", "en", wikipedia, 15, false, 1_290_000_000, 80_500_000, 49_000_000},
	{"dewiki", "de.wikipedia.org", "de", wikipedia, 3.5, false, 256_000_000, 13_600_000, 4_300_000},
	{"frwiki", "fr.wikipedia.org", "fr", wikipedia, 3.5, true, 226_000_000, 17_300_000, 4_900_000},
	{"eswiki", "es.wikipedia.org", "es", wikipedia, 2.5, true, 168_000_000, 11_800_000, 7_200_000},
	{"ruwiki", "ru.wikipedia.org", "ru", wikipedia, 2.5, true, 144_000_000, 10_600_000, 3_700_000},
	{"jawiki", "ja.wikipedia.org", "ja", wikipedia, 2, true, 106_000_000, 4_700_000, 2_100_000},
	{"itwiki", "it.wikipedia.org", "it", wikipedia, 2, true, 146_000_000, 8_600_000, 2_600_000},
	{"zhwiki", "zh.wikipedia.org", "zh", wikipedia, 1.8, true, 88_000_000, 9_400_000, 3_600_000},
	{"ukwiki", "uk.wikipedia.org", "uk", wikipedia, 1.3, true, 45_000_000, 4_100_000, 640_000},
	{"plwiki", "pl.wikipedia.org", "pl", wikipedia, 1.2, true, 77_000_000, 4_300_000, 1_200_000},
	{"ptwiki", "pt.wikipedia.org", "pt", wikipedia, 1.2, true, 71_000_000, 6_200_000, 3_300_000},
	{"enwiktionary", "en.wiktionary.org", "en", wiktionary, 2, true, 85_000_000, 10_900_000, 1_300_000},
	{"frwiktionary", "fr.wiktionary.org", "fr", wiktionary, 0.8, true, 37_000_000, 7_200_000, 300_000},
	{"metawiki", "meta.wikimedia.org", "en", metawiki, 1, true, 28_500_000, 2_100_000, 51_000_000},
	{"arwiki", "ar.wikipedia.org", "ar", wikipedia, 1, true, 73_000_000, 8_100_000, 2_700_000},
	{"fawiki", "fa.wikipedia.org", "fa", wikipedia, 1, true, 42_000_000, 6_200_000, 1_400_000},
	{"nlwiki", "nl.wikipedia.org", "nl", wikipedia, 0.8, true, 69_000_000, 4_600_000, 1_300_000},
	{"hewiki", "he.wikipedia.org", "he", wikipedia, 0.6, true, 42_000_000, 1_700_000, 600_000},
	{"svwiki", "sv.wikipedia.org", "sv", wikipedia, 0.5, true, 58_000_000, 6_600_000, 900_000},
	{"kowiki", "ko.wikipedia.org", "ko", wikipedia, 0.5, true, 39_000_000, 2_500_000, 1_000_000},
	{"viwiki", "vi.wikipedia.org", "vi", wikipedia, 0.5, true, 75_000_000, 20_000_000, 1_000_000},
	{"idwiki", "id.wikipedia.org", "id", wikipedia, 0.5, true, 28_000_000, 3_800_000, 2_000_000},
	{"trwiki", "tr.wikipedia.org", "tr", wikipedia, 0.5, true, 36_000_000, 2_300_000, 1_500_000},
	{"cswiki", "cs.wikipedia.org", "cs", wikipedia, 0.4, true, 25_000_000, 1_700_000, 600_000},
	{"enwikisource", "en.wikisource.org", "en", wikisource, 0.4, true, 15_000_000, 4_700_000, 3_000_000},
	{"mediawikiwiki", "www.mediawiki.org", "en", mediawikiwiki, 0.3, true, 7_100_000, 1_300_000, 1_600_000},
	{"specieswiki", "species.wikimedia.org", "en", species, 0.3, true, 11_000_000, 1_000_000, 500_000},
}

// projectName is the local name of the project namespace (4).
func (w *wikiInfo) projectName(l *lang) string {
	switch w.fam {
	case wikidata:
		return "Wikidata"
	case commons:
		return "Commons"
	case metawiki:
		return "Meta"
	case mediawikiwiki:
		return "Project"
	case species:
		return "Wikispecies"
	case wikisource:
		return "Wikisource"
	case wiktionary:
		if l.code == "fr" {
			return "Wiktionnaire"
		}
		return "Wiktionary"
	}
	return l.wikipedia
}

// nsWeights are the namespaces of edits, per family.
var nsWeights = map[family][]weighted[int]{
	wikipedia: {{nsMain, 62}, {nsTalk, 5}, {nsUser, 9}, {nsUserTalk, 8}, {nsProject, 4}, {nsFile, 0.5},
		{nsTemplate, 3}, {nsCategory, 6}, {nsDraft, 2}, {nsModule, 0.5}},
	wiktionary:    {{nsMain, 88}, {nsTalk, 1}, {nsUser, 3}, {nsUserTalk, 2}, {nsProject, 1}, {nsTemplate, 3}, {nsCategory, 2}},
	wikisource:    {{nsMain, 70}, {nsUser, 5}, {nsUserTalk, 5}, {nsProject, 3}, {nsTemplate, 5}, {nsCategory, 12}},
	wikidata:      {{nsMain, 91}, {nsProperty, 1}, {nsLexeme, 3}, {nsTalk, 0.5}, {nsUser, 2}, {nsUserTalk, 1}, {nsProject, 1.5}},
	commons:       {{nsFile, 74}, {nsCategory, 16}, {nsUser, 3}, {nsUserTalk, 3}, {nsProject, 2}, {nsMain, 1}, {nsTemplate, 1}},
	metawiki:      {{nsMain, 60}, {nsTalk, 5}, {nsUser, 15}, {nsUserTalk, 10}, {nsProject, 5}, {nsTemplate, 5}},
	mediawikiwiki: {{nsMain, 50}, {nsTalk, 5}, {nsUser, 20}, {nsUserTalk, 10}, {nsProject, 5}, {nsTemplate, 10}},
	species:       {{nsMain, 90}, {nsTemplate, 5}, {nsUser, 5}},
}

// interwikis are the interwiki prefixes edit summaries use, and their URLs.
var interwikis = map[string]string{
	"m":       "https://meta.wikimedia.org/wiki/",
	"meta":    "https://meta.wikimedia.org/wiki/",
	"d":       "https://www.wikidata.org/wiki/",
	"c":       "https://commons.wikimedia.org/wiki/",
	"commons": "https://commons.wikimedia.org/wiki/",
	"w":       "https://en.wikipedia.org/wiki/",
	"wikt":    "https://en.wiktionary.org/wiki/",
	"mw":      "https://www.mediawiki.org/wiki/",
	"phab":    "https://phabricator.wikimedia.org/",
}
