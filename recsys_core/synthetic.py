"""Seeded generator of the bundled sample data set (``sample_data/``).

A small MovieLens-like world whose structure a teacher can point at:

* 12 genres. Every item has one primary genre (``genre_truth``) and sometimes a
  secondary one; titles and descriptions are English sentences composed from
  genre vocabularies, so text models (TF-IDF, sentence embeddings) find genre
  neighbours.
* 6 taste segments of users (``segment``) who love some genres and dislike
  others; age, gender and occupation depend on the segment, so demographics
  predict taste somewhat. Each user also has one side interest.
* Ratings 1..5 from a latent model, rounded and clipped::

      r = mu + b_user + b_item + sum_g w_item,g * affinity(user, g) + noise

  Which items a user rates is drawn, without replacement, with probability
  proportional to item popularity (lognormal: a few blockbusters, a long
  tail) times ``exp(beta * affinity)``: ratings are missing not at random,
  as in real data. Every item gets at least one rating, every user at least
  five; user activity is long-tailed too.
* Timestamps over two years; each user rates in sessions inside an active
  window of their own, with strictly increasing times.
* User ids 1..N; item ids 1..M in a seeded random order, so ids do not
  correlate with popularity (they do in MovieLens).

The same seed and numpy version give byte-identical CSV files: every column is
an integer or a string, and all randomness comes from
``numpy.random.default_rng(seed)``.

Command line::

    python -m recsys_core.synthetic --out sample_data [--users N --items N --ratings N --seed S]
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset

# ---------------------------------------------------------------- the world


@dataclass(frozen=True)
class _Genre:
    name: str
    share: float  # of items with this primary genre
    year: tuple[float, float]  # mean and spread of release years
    secondary: tuple[str, ...]  # plausible secondary genres
    title_adjectives: tuple[str, ...]
    title_nouns: tuple[str, ...]
    places: tuple[str, ...]
    heroes: tuple[str, ...]  # singular subjects, lower case with article
    settings: tuple[str, ...]  # where/when phrases
    goals: tuple[str, ...]  # infinitive phrases without "to"
    events: tuple[str, ...]  # present-tense clauses
    themes: tuple[str, ...]
    tones: tuple[str, ...]
    kinds: tuple[str, ...]
    flavors: tuple[str, ...]  # "... with <flavor>" when this is a secondary genre


_GENRES: tuple[_Genre, ...] = (
    _Genre(
        name="Space Sci-Fi", share=0.10, year=(1995, 15),
        secondary=("Thriller", "Fantasy Epic", "Horror", "Comedy"),
        title_adjectives=("Silent", "Distant", "Hollow", "Infinite", "Frozen", "Outer", "Lost", "Quiet",
                          "Binary", "Orbital", "Starless", "Fading"),
        title_nouns=("Orbit", "Starship", "Horizon", "Nebula", "Signal", "Colony", "Eclipse", "Station",
                     "Voyager", "Comet", "Gravity", "Frontier", "Pulsar", "Drift"),
        places=("Kepler Station", "the Outer Rim", "Europa", "the Red Planet", "Titan", "Proxima",
                "the Void", "Andromeda"),
        heroes=("a weary starship captain", "a young navigator", "a lonely engineer", "an android crew member",
                "a disgraced astronaut", "a brilliant astrophysicist", "the last pilot of a lost fleet",
                "a stranded mining crew"),
        settings=("aboard a crumbling space station", "on a distant ice planet", "at the edge of the galaxy",
                  "on a generation ship drifting between stars", "in an orbiting research colony",
                  "beneath the rings of a gas giant"),
        goals=("answer a mysterious signal from deep space", "repair the failing reactor before the oxygen runs out",
               "make first contact with an alien intelligence", "bring the crew home across light-years",
               "uncover what happened to the missing colony", "steer the starship through a collapsing wormhole"),
        events=("a signal arrives from a star that died long ago", "the ship's computer begins to dream",
                "an alien probe enters orbit", "the colony loses contact with Earth",
                "a meteor storm cripples the station", "the crew wakes from cryosleep decades too late"),
        themes=("isolation and the limits of human knowledge", "memory, time and the vastness of space",
                "what it means to be human", "loneliness among the stars",
                "artificial intelligence and free will"),
        tones=("slow-burning, philosophical", "visually stunning", "cerebral", "haunting", "ambitious",
               "meditative"),
        kinds=("science-fiction drama", "space opera", "space adventure"),
        flavors=("a backdrop of distant planets and starships", "a touch of futuristic technology"),
    ),
    _Genre(
        name="Fantasy Epic", share=0.08, year=(2003, 12),
        secondary=("Family Animation", "Space Sci-Fi", "Romance", "War History"),
        title_adjectives=("Crimson", "Broken", "Ancient", "Sunken", "Enchanted", "Iron", "Shattered",
                          "Forgotten", "Golden", "Eternal", "Hidden", "Seventh"),
        title_nouns=("Crown", "Sword", "Dragon", "Throne", "Kingdom", "Prophecy", "Oath", "Sorcerer", "Realm",
                     "Citadel", "Rune", "Wyvern", "Chalice", "Tower"),
        places=("Eldoria", "the Misty Vale", "the Northern Keep", "Avaloth", "the Shadow Marches",
                "the Elven Woods", "Stormhold", "the Obsidian Peaks"),
        heroes=("a reluctant farm boy", "an exiled princess", "a young sorceress", "an aging knight",
                "a band of unlikely heroes", "a half-elf thief", "a wandering bard", "the heir to a fallen kingdom"),
        settings=("across a kingdom torn by war", "in an enchanted forest", "through the ruins of an ancient empire",
                  "beneath a mountain ruled by dragons", "in a realm where magic is forbidden",
                  "along the borders of the elven lands"),
        goals=("reclaim a stolen crown", "destroy a cursed sword", "fulfil an ancient prophecy",
               "unite the warring clans", "defeat a dark sorcerer", "find the last living dragon"),
        events=("an ancient prophecy awakens", "a dragon returns to the northern mountains",
                "the king is betrayed by his own council", "a cursed ring falls into the wrong hands",
                "the old magic begins to fade", "an army of the dead marches south"),
        themes=("destiny, sacrifice and the price of power", "courage and loyalty",
                "good and evil in a world of magic", "the burden of a royal bloodline",
                "friendship forged in battle"),
        tones=("sweeping", "epic", "richly imagined", "grand", "mythic", "spellbinding"),
        kinds=("fantasy epic", "fantasy adventure", "sword-and-sorcery tale"),
        flavors=("a dash of sorcery and ancient legend", "dragons, curses and magic swords"),
    ),
    _Genre(
        name="Romance", share=0.11, year=(1994, 16),
        secondary=("Comedy", "Musical", "War History", "Western"),
        title_adjectives=("Sweet", "Lasting", "Summer", "Secret", "Tender", "Gentle", "Second", "Stolen",
                          "Endless", "Little", "Paper", "Lovely"),
        title_nouns=("Heart", "Kiss", "Letters", "Promise", "Wedding", "Garden", "Waltz", "Affair", "Season",
                     "Bouquet", "Vow", "Rose", "Romance", "Valentine"),
        places=("Paris", "the Lake House", "Verona", "the Harbor", "the Vineyard", "Lisbon",
                "the Seaside Hotel", "Rosewood Lane"),
        heroes=("a shy bookseller", "a widowed architect", "a pair of childhood friends", "a struggling painter",
                "a young nurse", "a successful lawyer", "a pair of strangers", "a small-town florist"),
        settings=("during one unforgettable summer", "in a quiet seaside town", "in the streets of Paris",
                  "at a vineyard in the countryside", "over a series of handwritten letters",
                  "at a friend's wedding"),
        goals=("choose between a safe life and a great love", "win back a lost first love",
               "confess feelings kept secret for years", "keep a promise made long ago",
               "open a heart closed by grief", "rekindle a marriage drifting apart"),
        events=("an old love letter is finally delivered", "two strangers share a train compartment",
                "a chance meeting turns into a summer affair", "a wedding brings old flames together",
                "a beloved bookshop is about to close", "a rainy afternoon changes everything"),
        themes=("love, longing and second chances", "the courage to love again", "heartbreak and healing",
                "passion and commitment", "love across class and distance"),
        tones=("tender", "heartfelt", "bittersweet", "charming", "warm", "swooning"),
        kinds=("romantic drama", "love story", "romance"),
        flavors=("a tender love story at its heart", "a bittersweet romance"),
    ),
    _Genre(
        name="Comedy", share=0.13, year=(1996, 14),
        secondary=("Romance", "Family Animation", "Crime Noir", "Horror", "Musical"),
        title_adjectives=("Crazy", "Accidental", "Awkward", "Big", "Wild", "Lucky", "Messy", "Clumsy",
                          "Perfect", "Hopeless", "Silly", "Unlikely"),
        title_nouns=("Weekend", "Reunion", "Roommates", "Vacation", "Neighbors", "Mix-Up", "Road Trip", "Party",
                     "Detour", "Bachelor", "Intern", "Dinner", "Hiccup", "Blunder"),
        places=("Vegas", "the Suburbs", "the Office", "Camp Wanakee", "Grandma's House", "the Cruise Ship",
                "Cleveland", "the Bowling Alley"),
        heroes=("a hapless office clerk", "a pair of mismatched roommates", "an overconfident salesman",
                "a family of eccentrics", "a washed-up comedian", "a pair of clumsy best friends",
                "a nervous groom", "a stand-up comic"),
        settings=("over one chaotic weekend", "in a sleepy suburban town", "on a disastrous family vacation",
                  "at a high-school reunion", "during a road trip gone wrong", "in a tiny apartment"),
        goals=("hide a ridiculous lie from everyone", "win a neighborhood talent show",
               "survive a weekend with the in-laws", "return a stolen goat before dawn",
               "deliver the world's worst wedding toast", "save the family restaurant"),
        events=("a simple favor spirals out of control", "a wedding invitation goes to the wrong address",
                "a winning lottery ticket goes missing", "a talking parrot learns too much",
                "the boss comes to dinner", "two rival families book the same cabin"),
        themes=("friendship and family chaos", "embarrassment and growing up",
                "misunderstandings and mistaken identities", "the absurdity of everyday life",
                "awkward love and bad decisions"),
        tones=("hilarious", "light-hearted", "goofy", "laugh-out-loud", "quirky", "witty"),
        kinds=("comedy", "buddy comedy", "farce"),
        flavors=("plenty of laughs and slapstick", "a goofy sense of humor"),
    ),
    _Genre(
        name="Family Animation", share=0.08, year=(2002, 12),
        secondary=("Comedy", "Fantasy Epic", "Musical"),
        title_adjectives=("Little", "Brave", "Magic", "Curious", "Happy", "Tiny", "Jolly", "Sparkly", "Friendly",
                          "Clever", "Fuzzy", "Rainbow"),
        title_nouns=("Puppy", "Robot", "Balloon", "Penguin", "Treehouse", "Kitten", "Lantern", "Bunny", "Teddy",
                     "Cloud", "Snowman", "Toy Box", "Firefly", "Acorn"),
        places=("Bunnyville", "the Enchanted Meadow", "the Toy Shop", "Candy Mountain", "the Bubble Kingdom",
                "Whisker Island", "the Sunny Farm", "the Moonlit Forest"),
        heroes=("a curious little fox", "a brave young penguin", "a toy robot", "a talking puppy",
                "a clumsy baby dragon", "a group of woodland friends", "a lost teddy bear", "a kind-hearted snowman"),
        settings=("in a colorful animated world", "in a magical toy shop", "across a land of candy and clouds",
                  "in a cozy forest village", "at the bottom of the sea", "on a farm full of talking animals"),
        goals=("find the way home before winter", "save the forest from a grumpy giant",
               "make new friends at school", "learn to fly with a little help from friends",
               "rescue a lost baby bird", "bring back the colors of the rainbow"),
        events=("a toy comes to life", "a magic balloon carries a puppy away", "the moon forgets how to shine",
                "a little fox gets lost at the fair", "a friendly monster moves into the attic",
                "the animals of the farm learn to talk"),
        themes=("friendship, kindness and believing in yourself", "family, courage and growing up",
                "sharing and teamwork", "the magic of imagination"),
        tones=("heartwarming", "colorful", "playful", "charming", "sweet", "joyful"),
        kinds=("animated adventure", "family film", "animated comedy"),
        flavors=("colorful characters the whole family will enjoy", "cute talking animals"),
    ),
    _Genre(
        name="Musical", share=0.05, year=(1968, 18),
        secondary=("Romance", "Comedy", "Family Animation"),
        title_adjectives=("Singing", "Dancing", "Golden", "Velvet", "Electric", "Starlit", "Swinging", "Silver",
                          "Rhythmic", "Jazzy"),
        title_nouns=("Melody", "Rhythm", "Song", "Chorus", "Ballad", "Stage", "Symphony", "Tango", "Jukebox",
                     "Overture", "Encore", "Serenade", "Harmony", "Cabaret"),
        places=("Broadway", "the Ballroom", "Harlem", "the Opera House", "Vienna", "the Jazz Club",
                "Tin Pan Alley", "the Music Hall"),
        heroes=("a struggling singer", "a young dancer", "a small-town choir", "a jazz pianist", "a theatre troupe",
                "an aspiring songwriter", "a retired tap dancer", "a street band"),
        settings=("on the bright stages of Broadway", "in a smoky jazz club", "at a prestigious music conservatory",
                  "in a travelling vaudeville show", "in a glamorous ballroom", "at a summer music festival"),
        goals=("land the lead role in a Broadway show", "win a national singing contest",
               "write the song of a lifetime", "save a beloved old theatre", "perform one last concert",
               "bring a forgotten musical back to the stage"),
        events=("the star of the show loses her voice on opening night", "a street band gets its big break",
                "an old theatre is set to be demolished", "a choir enters a national competition",
                "a famous composer comes to town", "a talent scout hears a song on the radio"),
        themes=("music, ambition and the spotlight", "dreams of stardom", "the joy of song and dance",
                "rhythm, romance and show business", "following your passion"),
        tones=("toe-tapping", "dazzling", "exuberant", "joyous", "lavish", "show-stopping"),
        kinds=("musical", "song-and-dance spectacle", "musical drama"),
        flavors=("show-stopping songs and dance numbers", "a toe-tapping soundtrack"),
    ),
    _Genre(
        name="Crime Noir", share=0.07, year=(1972, 20),
        secondary=("Thriller", "Comedy", "Romance"),
        title_adjectives=("Black", "Crooked", "Naked", "Deadly", "Rainy", "Smoky", "Bitter", "Dirty", "Hard",
                          "Blind", "Stolen", "Dead"),
        title_nouns=("City", "Alibi", "Detective", "Dame", "Syndicate", "Shadow", "Gun", "Confession",
                     "Double-Cross", "Racket", "Precinct", "Badge", "Motive", "Witness"),
        places=("the Docks", "Harbor Street", "the Waterfront", "Chinatown", "the Underworld",
                "the Blue Moon Club", "Precinct Nine", "the East Side"),
        heroes=("a hard-boiled private detective", "a corrupt police officer", "a femme fatale",
                "a small-time crook", "an honest district attorney", "a disgraced reporter",
                "a retired mob accountant", "a rookie cop"),
        settings=("in the rain-soaked streets of the city", "in a corrupt port town",
                  "in the smoky nightclubs of the waterfront", "in the criminal underworld",
                  "in 1940s Los Angeles", "in a city run by the mob"),
        goals=("solve the murder of a wealthy heiress", "clear a name framed for murder",
               "bring down a powerful crime syndicate", "find a missing witness", "recover a stolen fortune",
               "expose a web of corruption"),
        events=("a mysterious woman walks into a detective's office", "a body is found at the docks",
                "a bank robbery goes wrong", "a key witness vanishes before the trial",
                "a crooked cop is found dead", "a mob boss is released from prison"),
        themes=("corruption, betrayal and guilt", "crime and punishment", "greed and moral decay",
                "loyalty among thieves", "justice in a crooked world"),
        tones=("gritty", "hard-boiled", "moody", "atmospheric", "cynical", "shadowy"),
        kinds=("crime drama", "film noir", "detective story"),
        flavors=("a murder mystery in shadowy streets", "crooked cops and gangsters"),
    ),
    _Genre(
        name="Thriller", share=0.11, year=(1997, 13),
        secondary=("Crime Noir", "Space Sci-Fi", "Horror", "War History"),
        title_adjectives=("Fatal", "Final", "Vanishing", "Rogue", "Critical", "Sudden", "Split", "Zero",
                          "Covert", "Lethal", "Urgent", "Blackout"),
        title_nouns=("Hour", "Target", "Countdown", "Conspiracy", "Protocol", "Hostage", "Agent", "Code",
                     "Pursuit", "Trap", "Cipher", "Deadline", "Asset", "Extraction"),
        places=("Berlin", "the Embassy", "Istanbul", "the Pentagon", "Zurich", "the Border", "the Safe House",
                "the Bridge"),
        heroes=("a former special forces soldier", "a rogue intelligence agent", "a paranoid journalist",
                "a brilliant hacker", "an ordinary commuter", "a kidnapped scientist", "a desperate father",
                "an undercover agent"),
        settings=("in a race against the clock", "across the capitals of Europe", "inside a locked-down embassy",
                  "on a hijacked train", "in a city under terrorist threat", "during a tense hostage crisis"),
        goals=("stop a deadly conspiracy before it is too late", "prevent a terrorist attack",
               "rescue a kidnapped daughter", "expose a government cover-up",
               "escape the assassins on the trail", "find the mole inside the agency"),
        events=("a top-secret file is stolen", "a routine flight is hijacked",
                "a hacker intercepts a coded message", "an assassination attempt fails",
                "a bomb threat paralyzes the city", "a witness is marked for death"),
        themes=("paranoia, surveillance and betrayal", "trust and deception", "survival under pressure",
                "power and conspiracy", "the cost of secrets"),
        tones=("tense", "pulse-pounding", "suspenseful", "relentless", "gripping", "edge-of-your-seat"),
        kinds=("thriller", "spy thriller", "action thriller"),
        flavors=("nail-biting suspense", "a ticking-clock conspiracy"),
    ),
    _Genre(
        name="Horror", share=0.08, year=(1993, 15),
        secondary=("Thriller", "Comedy", "Space Sci-Fi"),
        title_adjectives=("Haunted", "Cursed", "Bloody", "Wicked", "Screaming", "Rotting", "Hungry", "Unholy",
                          "Pale", "Twisted", "Crawling", "Undead"),
        title_nouns=("House", "Ritual", "Curse", "Basement", "Possession", "Doll", "Cellar", "Nightmare",
                     "Ghost", "Asylum", "Witch", "Exorcism", "Grave", "Thing"),
        places=("Blackwood Manor", "the Cabin", "the Asylum", "Hollow Creek", "the Cemetery", "the Woods",
                "Crowley House", "the Abandoned Mill"),
        heroes=("a grieving family", "a group of college friends", "a skeptical priest",
                "a paranormal investigator", "a lonely babysitter", "a young widow", "a pair of teenage campers",
                "a small-town sheriff"),
        settings=("in a haunted Victorian mansion", "in a remote cabin in the woods",
                  "in an abandoned psychiatric asylum", "in a cursed small town",
                  "in a house where a murder once happened", "on a foggy island"),
        goals=("survive the night", "escape an evil spirit", "break an ancient curse", "save a possessed child",
               "uncover the secret in the cellar", "stop a demon from being summoned"),
        events=("strange noises start in the attic", "an ancient ritual awakens a demon",
                "a cursed doll arrives in the mail", "the dead begin to rise", "a seance goes horribly wrong",
                "the lights go out during a storm"),
        themes=("fear, grief and the supernatural", "evil that lurks in the dark", "possession and madness",
                "death and what comes after", "the sins of the past"),
        tones=("terrifying", "creepy", "blood-curdling", "unsettling", "nightmarish", "chilling"),
        kinds=("horror film", "supernatural horror", "slasher"),
        flavors=("moments of creeping dread", "a terrifying supernatural twist"),
    ),
    _Genre(
        name="War History", share=0.06, year=(1985, 18),
        secondary=("Documentary", "Romance", "Thriller", "Western"),
        title_adjectives=("Last", "Long", "Fallen", "Brave", "Burning", "Red", "Great", "Iron", "Bloody",
                          "Forgotten", "Final", "Victorious"),
        title_nouns=("Battalion", "Front", "Battle", "Regiment", "Fortress", "Empire", "Trenches", "Siege",
                     "Armistice", "Campaign", "Soldier", "Flag", "Revolution", "Convoy"),
        places=("Normandy", "Stalingrad", "Gettysburg", "the Somme", "Waterloo", "Gallipoli", "Iwo Jima",
                "the Western Front"),
        heroes=("a young infantry soldier", "a battle-weary platoon", "a resistance fighter", "a field nurse",
                "a decorated general", "a wartime codebreaker", "a prisoner of war", "a fighter pilot"),
        settings=("during the Second World War", "on the beaches of Normandy", "in the trenches of the Great War",
                  "behind enemy lines in occupied France", "during the Napoleonic Wars",
                  "in the American Civil War"),
        goals=("hold the bridge against overwhelming odds", "lead the platoon home alive",
               "break the enemy's secret code", "smuggle refugees across the border", "survive a brutal siege",
               "deliver a message across the front"),
        events=("the enemy launches a surprise offensive", "a platoon is cut off behind enemy lines",
                "the resistance plans a daring sabotage", "the empire's capital falls",
                "the armistice is signed too late for some", "a downed pilot crashes in enemy territory"),
        themes=("courage, sacrifice and the horror of war", "honor and duty", "the true cost of victory",
                "brotherhood on the battlefield", "history seen through ordinary lives"),
        tones=("harrowing", "powerful", "unflinching", "moving", "sobering", "solemn"),
        kinds=("war drama", "historical epic", "war film"),
        flavors=("a backdrop of historic battles", "the chaos of war"),
    ),
    _Genre(
        name="Documentary", share=0.07, year=(2005, 10),
        secondary=("War History", "Musical", "Space Sci-Fi", "Crime Noir"),
        title_adjectives=("Hidden", "True", "Human", "Living", "Deep", "Inside", "Changing", "Real", "Untold",
                          "Vanishing", "Wild", "Natural"),
        title_nouns=("Planet", "Ocean", "Earth", "Story", "Life", "Nature", "Climate", "Journey", "Truth",
                     "Science", "Forest", "Migration", "Archive", "Experiment"),
        places=("the Arctic", "the Amazon", "the Himalayas", "Africa", "the Deep Sea", "Antarctica",
                "Silicon Valley", "the Sahara"),
        heroes=("a team of marine biologists", "a celebrated chef", "an investigative journalist",
                "a family of refugees", "a group of climate scientists", "a retired astronaut",
                "a wildlife photographer", "an indigenous community"),
        settings=("in the remote Arctic", "across five continents", "deep in the Amazon rainforest",
                  "inside a top research laboratory", "through rare archival footage", "over ten years of filming"),
        goals=("document the last wild tigers", "expose the truth about industrial farming",
               "follow the migration of whales", "record a vanishing language", "understand a changing climate",
               "reveal the real story behind a famous scandal"),
        events=("scientists discover a new species", "a glacier collapses into the sea",
                "a small town fights a chemical company", "archival footage resurfaces after decades",
                "a famous musician opens up about fame", "a community rebuilds after a flood"),
        themes=("nature, science and our changing planet", "real people and true events",
                "the environment and climate change", "history through rare archival footage",
                "the hidden lives of animals"),
        tones=("eye-opening", "informative", "thought-provoking", "intimate", "revealing", "inspiring"),
        kinds=("documentary", "nature documentary", "investigative documentary"),
        flavors=("real-life interviews and archival footage", "true events"),
    ),
    _Genre(
        name="Western", share=0.06, year=(1962, 14),
        secondary=("War History", "Romance", "Comedy", "Crime Noir"),
        title_adjectives=("Dusty", "Lone", "Silver", "Rusty", "Desperate", "High", "Open", "Dry", "Ragged",
                          "Restless", "Painted", "Wandering"),
        title_nouns=("Rider", "Gunslinger", "Sheriff", "Canyon", "Saddle", "Trail", "Stagecoach", "Bounty",
                     "Ranch", "Posse", "Outlaw", "Prairie", "Showdown", "Revolver"),
        places=("Tombstone", "Dodge City", "the Rio Grande", "Red Rock Canyon", "Laredo", "the Badlands",
                "Deadwood", "Silver Creek"),
        heroes=("a lone gunslinger", "a retired sheriff", "a young cattle rancher", "a bounty hunter",
                "a widowed homesteader", "a wanted outlaw", "a cavalry scout", "a travelling preacher"),
        settings=("in a lawless frontier town", "across the dusty plains of Texas",
                  "on a cattle drive through the Badlands", "in a gold-rush mining camp", "along the Mexican border",
                  "on a remote ranch in Wyoming"),
        goals=("defend the town from a ruthless gang", "avenge a murdered brother",
               "collect the bounty on a notorious outlaw", "protect a ranch from greedy land barons",
               "escort a stagecoach through hostile territory", "face an old rival in a final showdown"),
        events=("a gang of outlaws rides into town", "gold is discovered in the hills",
                "the railroad threatens a family ranch", "a stagecoach is robbed", "the sheriff is shot at high noon",
                "a stranger arrives on the afternoon train"),
        themes=("justice, revenge and frontier law", "honor and redemption", "the end of the Old West",
                "survival in a lawless land", "loyalty and betrayal on the frontier"),
        tones=("rugged", "classic", "sun-baked", "stoic", "spare", "hard-riding"),
        kinds=("western", "frontier drama", "revisionist western"),
        flavors=("a dusty frontier setting", "gunfights and cattle drives"),
    ),
)

#: Genre names, in the order used by every array in this module.
GENRES: tuple[str, ...] = tuple(genre.name for genre in _GENRES)
_GENRE_INDEX = {name: index for index, name in enumerate(GENRES)}

OCCUPATIONS: tuple[str, ...] = (
    "student", "engineer", "programmer", "scientist", "teacher", "artist", "writer", "healthcare",
    "administrator", "salesperson", "lawyer", "homemaker", "technician", "retired", "other",
)
GENDERS: tuple[str, ...] = ("M", "F", "other")


@dataclass(frozen=True)
class _Segment:
    name: str
    share: float
    affinity: dict[str, float]  # genre -> taste; genres not named are 0 (neutral)
    age: tuple[float, float]  # mean, spread
    gender: tuple[float, float, float]  # P(M), P(F), P(other)
    occupations: dict[str, float]  # weight multipliers; occupations not named weigh 1


_SEGMENTS: tuple[_Segment, ...] = (
    _Segment("sci-fi fans", 0.19,
             {"Space Sci-Fi": 1.3, "Fantasy Epic": 0.8, "Thriller": 0.3, "Romance": -0.8, "Musical": -1.0,
              "Western": -0.4},
             (29, 9), (0.66, 0.31, 0.03),
             {"student": 4, "engineer": 4, "programmer": 6, "scientist": 3, "technician": 2}),
    _Segment("romantics", 0.17,
             {"Romance": 1.3, "Musical": 0.9, "Comedy": 0.5, "Horror": -1.2, "War History": -0.7,
              "Crime Noir": -0.4},
             (35, 12), (0.25, 0.72, 0.03),
             {"writer": 3, "artist": 3, "teacher": 3, "healthcare": 3, "homemaker": 2}),
    _Segment("thrill seekers", 0.18,
             {"Thriller": 1.2, "Horror": 1.1, "Crime Noir": 0.8, "Family Animation": -1.1, "Musical": -0.9,
              "Romance": -0.5},
             (27, 8), (0.60, 0.37, 0.03),
             {"student": 4, "salesperson": 3, "technician": 3, "lawyer": 2, "engineer": 2}),
    _Segment("family viewers", 0.15,
             {"Family Animation": 1.3, "Comedy": 0.8, "Fantasy Epic": 0.6, "Horror": -1.3, "Crime Noir": -0.6,
              "War History": -0.5, "Thriller": -0.4},
             (38, 8), (0.40, 0.57, 0.03),
             {"homemaker": 5, "teacher": 4, "healthcare": 2, "administrator": 2, "student": 0.3}),
    _Segment("history buffs", 0.13,
             {"War History": 1.3, "Documentary": 1.0, "Western": 0.8, "Family Animation": -0.7, "Horror": -0.6,
              "Musical": -0.4},
             (53, 13), (0.70, 0.28, 0.02),
             {"retired": 4, "teacher": 3, "lawyer": 2, "scientist": 2, "writer": 2}),
    _Segment("eclectic", 0.18,
             {"Documentary": 0.5, "Crime Noir": 0.4, "Comedy": 0.3, "Space Sci-Fi": 0.2, "Horror": -0.2},
             (35, 13), (0.47, 0.48, 0.05),
             {"artist": 3, "writer": 3, "scientist": 2}),
)

#: Segment names, in the order used by every array in this module.
SEGMENTS: tuple[str, ...] = tuple(segment.name for segment in _SEGMENTS)

#: Planted taste of each segment for each genre, shape (len(SEGMENTS), len(GENRES)).
AFFINITY: np.ndarray = np.array([[segment.affinity.get(genre, 0.0) for genre in GENRES] for segment in _SEGMENTS])
AFFINITY.setflags(write=False)


def favourite_genres(segment: str) -> tuple[str, ...]:
    """The genres a segment loves (planted affinity >= 0.5), most loved first."""
    row = AFFINITY[SEGMENTS.index(segment)]
    order = np.argsort(-row, kind="stable")
    return tuple(GENRES[g] for g in order if row[g] >= 0.5)


# ----------------------------------------------------------- model constants
_MIN_RATINGS_PER_USER = 5
# Each user rates at most a share of the catalogue drawn from this range (a per-user cap, so heavy users
# do not pile up at one count).
_USER_CAP_SHARE = (0.24, 0.40)
_ACTIVITY_SPREAD = 1.5  # sigma of the lognormal user activity
_ACTIVITY_KNEE = 1.5  # in units of sigma; see _soft_knee
_NEWCOMER_SHARE = 0.03  # users with exactly the minimum, so the <= 5 bucket is not empty
_POPULARITY_SPREAD = 2.0  # sigma of the lognormal item popularity
_POPULARITY_KNEE = 2.0  # in units of sigma; see _soft_knee
_SECONDARY_SHARE = 0.35  # items with a secondary genre
_PRIMARY_WEIGHT = 0.65  # weight of the primary genre in the affinity of a two-genre item
_SIDE_INTEREST = 0.6  # extra affinity of a user for their one side-interest genre
_SELECTION_STRENGTH = 2.5  # beta: how much affinity drives which items a user rates (2.5: ranking models beat "popular" about as much as on MovieLens-100k)
_GLOBAL_MEAN = 3.0  # mu before selection; the observed mean lands near 3.7 (users rate what they like)
_USER_BIAS, _ITEM_BIAS, _USER_GENRE_NOISE, _NOISE = 0.35, 0.3, 0.2, 0.9
_START = 1_609_459_200  # 2021-01-01 00:00:00 UTC
_SPAN = 730 * 86_400  # two years, in seconds
_MIN_YEAR, _MAX_YEAR = 1930, 2020


# ------------------------------------------------------------------- public
def generate(
    n_users: int = 600,
    n_items: int = 1500,
    n_ratings: int = 45_000,
    seed: int = 0,
    feedback: str = "ratings",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Generate the synthetic ratings, items and users.

    Parameters
    ----------
    n_users, n_items, n_ratings : int
        Exact sizes of the result. Needs ``n_ratings >= 5 * n_users``,
        ``n_ratings >= 2 * n_items`` and ``n_ratings <= 0.24 * n_items * n_users``.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same frames.
    feedback : {"ratings", "counts"}
        ``"counts"``: the same users, items and pairs (the same planted truth), each
        pair with a heavy-tailed play count instead of a star rating (see
        :func:`_play_counts`), in the column ``weight``, as Last.fm's
        ``user_artists.dat`` has them.

    Returns
    -------
    ratings : DataFrame
        ``user``, ``item``, ``rating`` (int 1..5; ``weight``, int >= 1, for counts),
        ``timestamp`` (int unix seconds, distinct within a user), sorted by user (within a user, rows are in
        the unplanted generator's order, not by time: see :func:`_viewing_order`); no duplicate (user, item)
        pairs.
    items : DataFrame
        ``item``, ``title``, ``genres`` (pipe-joined, primary first), ``description``,
        ``genre_truth`` (the primary genre), ``year``, sorted by item id.
    users : DataFrame
        ``user``, ``age``, ``gender``, ``occupation``, ``segment``, sorted by user id.
    """
    n_users, n_items, n_ratings = int(n_users), int(n_items), int(n_ratings)
    if feedback not in ("ratings", "counts"):
        raise ValueError(f"feedback must be 'ratings' or 'counts', not {feedback!r}.")
    _check_sizes(n_users, n_items, n_ratings)
    # Independent streams per part, so e.g. editing a word list leaves the ratings unchanged.
    rng_items, rng_text, rng_users, rng_select, rng_rate, rng_time = np.random.default_rng(seed).spawn(6)

    catalogue = _make_items(n_items, rng_items)
    people = _make_users(n_users, rng_users)
    counts = _user_counts(n_users, n_items, n_ratings, rng_users)

    user_idx, item_idx = _sample_pairs(counts, people, catalogue, rng_select)
    _cover_every_item(user_idx, item_idx, people, catalogue, rng_select)
    rating = _rate(user_idx, item_idx, people, catalogue, rng_rate)

    slot_time, order = _timestamps(user_idx, counts, rng_time)
    # Which pair takes which of a user's time slots: the planted viewing order (its own stream). The rows stay
    # in the order of the unplanted generator, so the file's pairs, ratings, times and row order are what they
    # were for this seed -- a random split draws exactly the same train and test pairs -- and only which pair
    # happened when carries the planted sequence.
    planted = _viewing_order(user_idx, item_idx, catalogue, np.random.default_rng([int(seed), 8191]))
    time_of_pair = np.empty(len(user_idx), dtype=np.int64)
    time_of_pair[planted] = slot_time  # both list each user's pairs in one block, users in the same order
    ratings = pd.DataFrame({
        "user": user_idx[order].astype(np.int64) + 1,
        "item": catalogue["item_id"][item_idx[order]],
        "rating": rating[order].astype(np.int64),
        "timestamp": time_of_pair[order],
    })
    if feedback == "counts":
        # Its own stream: the ratings (and everything else) stay what they are for this seed.
        plays = _play_counts(user_idx, item_idx, people, catalogue, np.random.default_rng([int(seed), 1892]))
        ratings = ratings.drop(columns="rating")
        ratings.insert(2, "weight", plays[order])

    titles, descriptions = _compose_text(catalogue, rng_text)
    primary, secondary = catalogue["primary"], catalogue["secondary"]
    genre_names = np.array(GENRES, dtype=object)
    genres = np.where(secondary >= 0, genre_names[primary] + "|" + genre_names[np.maximum(secondary, 0)],
                      genre_names[primary])
    items = pd.DataFrame({
        "item": catalogue["item_id"],
        "title": titles,
        "genres": genres,
        "description": descriptions,
        "genre_truth": genre_names[primary],
        "year": catalogue["year"],
    }).sort_values("item", kind="stable").reset_index(drop=True)

    users = pd.DataFrame({
        "user": np.arange(1, n_users + 1, dtype=np.int64),
        "age": people["age"],
        "gender": np.array(GENDERS, dtype=object)[people["gender"]],
        "occupation": np.array(OCCUPATIONS, dtype=object)[people["occupation"]],
        "segment": np.array(SEGMENTS, dtype=object)[people["segment"]],
    })
    return ratings, items, users


def write_sample(directory: str | Path, feedback: str = "ratings", **kwargs: int) -> dict[str, Path]:
    """Generate (``kwargs`` as for :func:`generate`) and write the three files.

    Writes ``ratings.csv``, ``items.csv`` and ``users.csv`` into ``directory``
    (created if missing) with ``\\n`` line ends, UTF-8 and no index, and
    returns the paths by name. With ``feedback="counts"`` the first file is
    ``plays.tsv`` instead: the same pairs with play counts, in Last.fm HetRec's
    layout (tab-separated ``userID  artistID  weight``, no times).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frames = dict(zip(("ratings", "items", "users"), generate(feedback=feedback, **kwargs)))
    paths = {}
    for name, frame in frames.items():
        if name == "ratings" and feedback == "counts":
            paths[name] = directory / PLAYS_FILE
            plays = pd.DataFrame({"userID": frame["user"], "artistID": frame["item"], "weight": frame["weight"]})
            plays.to_csv(paths[name], sep="\t", index=False, lineterminator="\n", encoding="utf-8")
            continue
        paths[name] = directory / f"{name}.csv"
        frame.to_csv(paths[name], index=False, lineterminator="\n", encoding="utf-8", chunksize=1_000_000)
    return paths


#: The bundled sample's play-count variant (same seed, users, items and pairs as ``ratings.csv``).
PLAYS_FILE = "plays.tsv"


def generate_dataset(name: str = "synthetic", **kwargs: int) -> Dataset:
    """:func:`generate` wrapped in a :class:`Dataset` (rating scale 1..5), for notebooks and tests."""
    ratings, items, users = generate(**kwargs)
    return Dataset.from_frames(ratings, name=name, rating_scale=(1.0, 5.0), items=items, users=users)


# ------------------------------------------------------------------ checks
def _user_cap(n_items: int) -> int:
    """The cap on ratings per user that every user is guaranteed."""
    return max(_MIN_RATINGS_PER_USER, int(_USER_CAP_SHARE[0] * n_items))


def _check_sizes(n_users: int, n_items: int, n_ratings: int) -> None:
    if n_users < 1 or n_items < 20:
        raise ValueError(f"Need at least 1 user and 20 items (got {n_users} users, {n_items} items).")
    low = max(_MIN_RATINGS_PER_USER * n_users, 2 * n_items)
    high = _user_cap(n_items) * n_users
    if not low <= n_ratings <= high:
        raise ValueError(
            f"{n_ratings} ratings cannot be spread over {n_users} users and {n_items} items: every user rates "
            f"at least {_MIN_RATINGS_PER_USER} items and may be capped at {_user_cap(n_items)}, and there must be "
            f"at least two ratings per item. Choose between {low} and {high} ratings."
        )


# ------------------------------------------------------------ items, users
def _pick(weights: np.ndarray, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
    """Categorical draws; ``weights`` is (k,) with ``size`` draws, or (n, k) with one draw per row."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim == 1:
        weights = np.broadcast_to(weights, (int(size), len(weights)))
    cumulative = np.cumsum(weights, axis=1)
    threshold = rng.random(len(cumulative)) * cumulative[:, -1]
    return np.minimum((cumulative <= threshold[:, None]).sum(axis=1), weights.shape[1] - 1)


def _soft_knee(z: np.ndarray, knee: float) -> np.ndarray:
    """``z`` with everything above ``knee`` grown at half speed: a long tail without one runaway value."""
    return np.where(z > knee, knee + 0.5 * (z - knee), z)


def _make_items(n_items: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n_genres = len(GENRES)
    primary = _pick([genre.share for genre in _GENRES], rng, n_items)
    secondary_weights = np.zeros((n_genres, n_genres))
    for g, genre in enumerate(_GENRES):
        secondary_weights[g, [_GENRE_INDEX[name] for name in genre.secondary]] = 1.0
    has_secondary = rng.random(n_items) < _SECONDARY_SHARE
    secondary = np.where(has_secondary, _pick(secondary_weights[primary], rng), -1)

    year_mean = np.array([genre.year[0] for genre in _GENRES])[primary]
    year_spread = np.array([genre.year[1] for genre in _GENRES])[primary]
    year = np.clip(np.rint(rng.normal(year_mean, year_spread)), _MIN_YEAR, _MAX_YEAR).astype(np.int64)

    # Latent z, weight exp(spread * z). The knee keeps the biggest hit to about 60% of users (as in
    # MovieLens 100k) rather than nearly all of them.
    popularity = _soft_knee(rng.normal(size=n_items), _POPULARITY_KNEE)
    # Popular items are rated a little better, as in MovieLens.
    quality = 0.15 * popularity + rng.normal(0.0, _ITEM_BIAS, n_items)
    item_id = rng.permutation(n_items).astype(np.int64) + 1

    # Genre weights of each item: (n_items, n_genres), rows sum to 1.
    membership = np.zeros((n_items, n_genres))
    rows = np.arange(n_items)
    membership[rows, primary] = np.where(has_secondary, _PRIMARY_WEIGHT, 1.0)
    membership[rows[has_secondary], secondary[has_secondary]] = 1.0 - _PRIMARY_WEIGHT
    return {
        "primary": primary, "secondary": secondary, "year": year, "popularity": popularity,
        "quality": quality, "item_id": item_id, "membership": membership,
    }


def _make_users(n_users: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    segment = _pick([s.share for s in _SEGMENTS], rng, n_users)
    # A side interest, mostly near the segment's taste, varies users within a segment.
    side = _pick(np.exp(0.8 * AFFINITY[segment]), rng)
    age_mean = np.array([s.age[0] for s in _SEGMENTS])[segment]
    age_spread = np.array([s.age[1] for s in _SEGMENTS])[segment]
    age = np.clip(np.rint(rng.normal(age_mean, age_spread)), 14, 82).astype(np.int64)
    gender = _pick(np.array([s.gender for s in _SEGMENTS])[segment], rng)

    weights = np.array([[s.occupations.get(o, 1.0) for o in OCCUPATIONS] for s in _SEGMENTS])[segment]
    student, retired = OCCUPATIONS.index("student"), OCCUPATIONS.index("retired")
    weights[:, student] *= np.select([age <= 24, age <= 32], [12.0, 1.0], 0.02)
    weights[:, retired] *= np.select([age >= 65, age >= 57], [40.0, 2.0], 0.0)
    occupation = _pick(weights, rng)

    taste = AFFINITY[segment].copy()
    taste[np.arange(n_users), side] += _SIDE_INTEREST
    taste += rng.normal(0.0, _USER_GENRE_NOISE, taste.shape)
    return {
        "segment": segment, "side": side, "age": age, "gender": gender, "occupation": occupation,
        "taste": taste, "bias": rng.normal(0.0, _USER_BIAS, n_users),
    }


def _user_counts(n_users: int, n_items: int, n_ratings: int, rng: np.random.Generator) -> np.ndarray:
    """Ratings per user: 5 plus a lognormal share of the rest (none for newcomers), capped, summing to ``n_ratings``."""
    activity = np.exp(_ACTIVITY_SPREAD * _soft_knee(rng.normal(size=n_users), _ACTIVITY_KNEE))
    cap = np.maximum(_user_cap(n_items), np.floor(rng.uniform(*_USER_CAP_SHARE, n_users) * n_items)).astype(np.int64)
    activity[rng.random(n_users) < _NEWCOMER_SHARE] = 0.0  # just signed up: the minimum only
    counts = np.full(n_users, _MIN_RATINGS_PER_USER, dtype=np.int64)
    # Hand out what is left in proportion to activity; capped users leave the pool.
    while (left := n_ratings - int(counts.sum())) > 0:
        open_ = counts < cap
        share = np.where(open_, activity, 0.0)
        if share.sum() == 0:  # only newcomers are left open (tiny data sets)
            share = open_.astype(np.float64)
        extra = np.floor(share / share.sum() * left).astype(np.int64)
        if extra.sum() == 0:  # the last few: one each to the most active open users
            extra[np.argsort(-share, kind="stable")[:left]] = 1
        counts = np.minimum(counts + extra, cap)
    return counts


# ------------------------------------------------------------------ ratings
def _sample_pairs(
    counts: np.ndarray, people: dict[str, np.ndarray], catalogue: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's ``counts[u]`` distinct items, weighted by popularity x exp(beta * affinity).

    Successive sampling: draw items with replacement from the user's weights
    and keep the first ``counts[u]`` distinct ones, which is sampling without
    replacement. Users of one (segment, side interest) pair share their
    weights, so there is one cumulative table per pair and the draws are a
    ``searchsorted``; users short of distinct items draw again, with more.
    """
    n_users, n_items = len(counts), len(catalogue["primary"])
    n_genres = len(GENRES)
    group = people["segment"] * n_genres + people["side"]
    groups = np.unique(group)
    taste = AFFINITY[groups // n_genres]
    taste[np.arange(len(groups)), groups % n_genres] += _SIDE_INTEREST
    log_weight = _POPULARITY_SPREAD * catalogue["popularity"][None, :] + _SELECTION_STRENGTH * (
        taste @ catalogue["membership"].T)
    cumulative = np.cumsum(np.exp(log_weight - log_weight.max(axis=1, keepdims=True)), axis=1)
    table_of_group = np.searchsorted(groups, group)

    kept_user = np.empty(0, dtype=np.int64)  # distinct draws so far of users still short, stream order
    kept_item = np.empty(0, dtype=np.int64)
    done_user, done_item = [], []
    pending = np.arange(n_users)
    factor = 1.3
    while len(pending):
        need = counts[pending] - np.bincount(kept_user, minlength=n_users)[pending]
        draws = np.ceil(need * factor).astype(np.int64) + 2
        by_table = np.argsort(table_of_group[pending], kind="stable")
        draw_user = np.repeat(pending[by_table], draws[by_table])
        draw_table = table_of_group[draw_user]
        draw_item = np.empty(len(draw_user), dtype=np.int64)
        uniform = rng.random(len(draw_user))
        bounds = np.searchsorted(draw_table, np.arange(len(groups) + 1))
        for t in range(len(groups)):
            part = slice(bounds[t], bounds[t + 1])
            draw_item[part] = np.searchsorted(cumulative[t], uniform[part] * cumulative[t, -1], side="right")
        np.minimum(draw_item, n_items - 1, out=draw_item)

        # Earlier draws first (kept ones, then these), grouped by user.
        user = np.concatenate([kept_user, draw_user])
        item = np.concatenate([kept_item, draw_item])
        order = np.argsort(user, kind="stable")
        user, item = user[order], item[order]
        key = user * n_items + item
        by_key = np.argsort(key, kind="stable")
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[by_key[1:]] != key[by_key[:-1]]
        distinct = np.zeros(len(key), dtype=bool)
        distinct[by_key[first]] = True
        user, item = user[distinct], item[distinct]
        rank = np.arange(len(user)) - np.searchsorted(user, user, side="left")
        keep = rank < counts[user]
        user, item = user[keep], item[keep]

        complete = np.bincount(user, minlength=n_users) == counts
        finished = complete[user]
        done_user.append(user[finished])
        done_item.append(item[finished])
        kept_user, kept_item = user[~finished], item[~finished]
        pending = pending[~complete[pending]]
        factor *= 2.0
    return np.concatenate(done_user), np.concatenate(done_item)


def _pair_affinity(user_idx: np.ndarray, item_idx: np.ndarray, people, catalogue) -> np.ndarray:
    """Affinity of each (user, item) pair: the user's taste for the item's genres."""
    primary, secondary = catalogue["primary"][item_idx], catalogue["secondary"][item_idx]
    membership = catalogue["membership"]
    taste = people["taste"]
    value = taste[user_idx, primary] * membership[item_idx, primary]
    two = secondary >= 0
    value[two] += taste[user_idx[two], secondary[two]] * membership[item_idx[two], secondary[two]]
    return value


def _cover_every_item(user_idx, item_idx, people, catalogue, rng: np.random.Generator) -> None:
    """Give every unrated item one rating, in place, keeping every user's count.

    For each unrated item a rating row is moved to it from an item with at
    least two ratings; among a few random rows the one whose user likes the
    item best wins (Gumbel-max over ``beta * affinity``).
    """
    n_items = len(catalogue["primary"])
    candidates = 16
    for _ in range(100):
        count = np.bincount(item_idx, minlength=n_items)
        missing = np.flatnonzero(count == 0)
        if not len(missing):
            return
        rows = rng.integers(0, len(item_idx), size=(len(missing), candidates))
        score = _SELECTION_STRENGTH * _pair_affinity(
            user_idx[rows].ravel(), np.repeat(missing, candidates), people, catalogue).reshape(rows.shape)
        score += rng.gumbel(size=rows.shape)
        score[count[item_idx[rows]] < 2] = -np.inf
        best = np.argmax(score, axis=1)
        row = rows[np.arange(len(missing)), best]
        usable = np.isfinite(score[np.arange(len(missing)), best])
        missing, row = missing[usable], row[usable]
        _, first = np.unique(row, return_index=True)  # one new item per row
        first.sort()
        missing, row = missing[first], row[first]
        donor = item_idx[row]  # a donor item may give up all but one of its ratings
        by_donor = np.argsort(donor, kind="stable")
        rank = np.empty(len(row), dtype=np.int64)
        sorted_donor = donor[by_donor]
        rank[by_donor] = np.arange(len(row)) - np.searchsorted(sorted_donor, sorted_donor, side="left")
        ok = rank < count[donor] - 1
        item_idx[row[ok]] = missing[ok]
    raise RuntimeError("could not give every item a rating; use more ratings per item")


def _rate(user_idx, item_idx, people, catalogue, rng: np.random.Generator) -> np.ndarray:
    """Integer ratings 1..5 from the latent model (see the module docstring)."""
    latent = (_GLOBAL_MEAN + people["bias"][user_idx] + catalogue["quality"][item_idx]
              + _pair_affinity(user_idx, item_idx, people, catalogue) + rng.normal(0.0, _NOISE, len(user_idx)))
    return np.clip(np.floor(latent + 0.5), 1, 5).astype(np.int8)


#: Play counts: log(plays) = log(median) + listening volume of the user + pull of the item + taste + noise.
_PLAYS_MEDIAN = 260.0  # Last.fm HetRec: median weight 260, mean 745, largest 352,698
_PLAYS_VOLUME, _PLAYS_PULL, _PLAYS_TASTE, _PLAYS_NOISE = 0.9, 0.35, 0.8, 1.0


def _play_counts(user_idx, item_idx, people, catalogue, rng: np.random.Generator) -> np.ndarray:
    """A heavy-tailed play count (int >= 1) per (user, item) pair.

    ``log c = log 260 + v_u + 0.35 z_i + 0.8 (affinity - its mean) + e``, with a lognormal listening volume
    ``v_u ~ N(0, 0.9)`` per user, the item's popularity ``z_i`` and noise ``e ~ N(0, 1)``: a median near 260
    plays, a mean near 3x the median and a largest count in the hundreds of thousands on Last.fm's size, as in
    Last.fm's ``user_artists.dat``. People play what they like more, so the counts carry taste beyond which
    pairs exist; read as ratings (1 to the largest count), nearly nothing is "relevant" and a mean count
    is dominated by a few heavy listeners: the failure real play counts show.
    """
    n_users = int(people["taste"].shape[0])
    volume = rng.normal(0.0, _PLAYS_VOLUME, n_users)
    affinity = _pair_affinity(user_idx, item_idx, people, catalogue)
    pull = catalogue["popularity"][item_idx]
    log_plays = (np.log(_PLAYS_MEDIAN) + volume[user_idx] + _PLAYS_PULL * (pull - pull.mean())
                 + _PLAYS_TASTE * (affinity - affinity.mean()) + rng.normal(0.0, _PLAYS_NOISE, len(user_idx)))
    return np.maximum(1, np.ceil(np.exp(log_plays))).astype(np.int64)


def write_lastfm_like(directory: str | Path, seed: int = 0, **sizes: int) -> dict[str, Path]:
    """A generated data set in Last.fm HetRec 2011's layout (``user_artists.dat``, ``artists.dat``).

    Listeners' top-50 artist lists with scenes, a steep head, a one-listener tail and heavy-tailed play
    counts, of Last.fm's size by default: see :mod:`recsys_core.synthetic_lastfm` (kept apart from the
    sample's generator: artists and scenes, not films and genres).
    """
    from recsys_core.synthetic_lastfm import write_lastfm_like as write

    return write(directory, seed=seed, **sizes)


def _timestamps(user_idx: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Strictly increasing unix times per user, and the row order that sorts by (user, time).

    Each user is active in a window (longer for heavier users) and rates in
    sessions: a handful of ratings minutes apart.
    """
    n_users = len(counts)
    day = 86_400.0
    window = np.clip(np.exp(rng.normal(np.log(30.0) + 0.6 * np.log(counts / 30.0), 1.0)), 0.05, 700.0) * day
    start = _START + rng.random(n_users) * (_SPAN - window - day)
    sessions = 1 + rng.poisson(counts / 10.0)
    session_offset = np.concatenate([[0], np.cumsum(sessions)])
    session_start = np.repeat(start, sessions) + rng.random(int(session_offset[-1])) * np.repeat(window, sessions)
    session = session_offset[user_idx] + np.floor(rng.random(len(user_idx)) * sessions[user_idx]).astype(np.int64)
    length = 600.0 + 120.0 * (counts / sessions)[user_idx]  # seconds; ~2 minutes per rating
    moment = np.floor(session_start[session] + rng.random(len(user_idx)) * length).astype(np.int64)

    order = np.lexsort((moment, user_idx))
    moment = moment[order]
    sorted_user = user_idx[order]
    # Strictly increasing within a user: t_k = k + running max of (t_k - k).
    rank = np.arange(len(moment)) - np.searchsorted(sorted_user, sorted_user, side="left")
    shift = np.int64(1) << 36  # keeps users apart in one global running maximum
    lifted = moment - rank + sorted_user.astype(np.int64) * shift
    moment = np.maximum.accumulate(lifted) - sorted_user.astype(np.int64) * shift + rank
    return moment, order


#: Noise of the planted viewing order: this share of each user's items is placed at a random moment.
_ORDER_NOISE = 0.15


def _viewing_order(user_idx: np.ndarray, item_idx: np.ndarray, catalogue, rng: np.random.Generator) -> np.ndarray:
    """The row order that sorts the pairs by (user, planted viewing order): the k-th is the user's k-th item in time.

    The planted truth of the sequence models: people watch in *sittings of one genre* (bursts of 3-9 items of
    one primary genre) and, within a genre, *in order of release*, one series part after another -- so the item
    after a sitting's last one is, most often, a film of the same genre released soon after it. Each user's
    films of one genre, by year, are cut into sittings; a genre's sittings are spread evenly over the user's
    timeline (its k-th of n at ``(k + U) / n``), so genres interleave; ``_ORDER_NOISE`` of the items are put at
    a random moment instead. The set of pairs, the ratings and the times are unchanged (a random split sees
    the same data, shuffled); only the order within each user carries the signal.
    """
    n = len(user_idx)
    genre = catalogue["primary"][item_idx]
    year = catalogue["year"][item_idx].astype(np.float64) + rng.random(n) * 0.5  # same year: any order
    n_users = int(user_idx.max()) + 1 if n else 0
    sitting = 3 + rng.poisson(3.0, n_users).clip(max=6)  # items per sitting, per user
    group = user_idx.astype(np.int64) * (len(GENRES) + 1) + genre
    by_group = np.lexsort((year, group))
    starts = np.searchsorted(group[by_group], group[by_group], side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[by_group] = np.arange(n) - starts  # place among the user's films of that genre, by year
    group_size = np.bincount(np.searchsorted(np.unique(group), group), minlength=len(np.unique(group)))
    size = group_size[np.searchsorted(np.unique(group), group)]
    chunk = rank // sitting[user_idx]
    n_chunks = -(-size // sitting[user_idx])
    # One uniform offset per (user, genre, sitting): the sitting's place on the user's timeline.
    chunk_key = group * 1024 + chunk
    _, chunk_id = np.unique(chunk_key, return_inverse=True)
    offset = rng.random(int(chunk_id.max()) + 1 if n else 0)[chunk_id]
    key = (chunk + offset) / n_chunks
    noisy = rng.random(n) < _ORDER_NOISE
    key[noisy] = rng.random(int(noisy.sum()))
    within = np.where(noisy, 0.0, year)
    return np.lexsort((within, key, user_idx))


# --------------------------------------------------------------------- text
_TIMES = ("Midnight", "Dawn", "Dusk", "Winter", "Summer", "Nightfall")
_TITLE_TEMPLATES = (  # (template, weight)
    ("The {adj} {noun}", 0.26), ("{adj} {noun}", 0.14), ("The {noun} of {place}", 0.14),
    ("{time} at {place}", 0.08), ("Return to {place}", 0.08), ("Beyond the {noun}", 0.08),
    ("{noun} and {noun2}", 0.12), ("The Last {noun}", 0.10),
)
_VERBS = ("sets out to", "struggles to", "is forced to", "tries to", "must", "fights to")
_GENERIC_TEMPLATES = (
    "Critics praised the {adj} {noun}.", "Audiences remember its {adj} {noun}.",
    "Based on a best-selling novel, with {adj} {noun}.", "Known for its {adj} {noun} and a strong cast.",
    "A festival favorite with {adj} {noun}.",
)
_GENERIC_ADJECTIVES = ("memorable", "striking", "remarkable", "unforgettable", "bold", "superb", "standout", "strong")
_GENERIC_NOUNS = ("performances", "visuals", "dialogue", "music", "camera work", "production design", "costumes",
                  "editing")
_ROMAN = ("II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _compose_text(catalogue: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Titles "<title> (<year>)" and 1-3 sentence descriptions from the genre vocabularies."""
    primary, secondary, year = catalogue["primary"], catalogue["secondary"], catalogue["year"]
    n_items = len(primary)
    # One row of random integers per item; each slot picks from one word list (modulo its length).
    pick = rng.integers(0, 1 << 30, size=(n_items, 17))
    title_template = _pick([w for _, w in _TITLE_TEMPLATES], rng, n_items)
    n_sentences = _pick([0.2, 0.45, 0.35], rng, n_items) + 1
    plot_template = rng.integers(0, 3, n_items)

    titles, descriptions = [], []
    for i in range(n_items):  # a loop over items is cheap next to the ratings
        g = _GENRES[primary[i]]
        s = _GENRES[secondary[i]] if secondary[i] >= 0 else None
        p = pick[i]

        def one(words: tuple[str, ...], slot: int) -> str:
            return words[p[slot] % len(words)]

        noun = one(g.title_nouns, 1)
        # "Sword and Crown": the second noun comes from the secondary genre when there is one.
        nouns2 = s.title_nouns if s is not None else g.title_nouns
        noun2 = one(nouns2, 2)
        if noun2 == noun:
            noun2 = nouns2[(p[2] + 1) % len(nouns2)]
        titles.append(_TITLE_TEMPLATES[title_template[i]][0].format(
            adj=one(g.title_adjectives, 0), noun=noun, noun2=noun2, place=one(g.places, 3), time=one(_TIMES, 4)))

        hero, verb, goal = one(g.heroes, 5), one(_VERBS, 6), one(g.goals, 7)
        if plot_template[i] == 0:
            plot = f"{_capitalised(hero)} {verb} {goal} {one(g.settings, 8)}."
        elif plot_template[i] == 1:
            plot = f"{_capitalised(one(g.settings, 8))}, {hero} {verb} {goal}."
        else:
            plot = f"When {one(g.events, 9)}, {hero} {verb} {goal}."
        tone = one(g.tones, 10)
        article = "An" if tone[0] in "aeiou" else "A"
        summary = f"{article} {tone} {one(g.kinds, 11)} about {one(g.themes, 12)}"
        summary += f", with {one(s.flavors, 13)}." if s is not None else "."
        generic = one(_GENERIC_TEMPLATES, 14).format(
            adj=one(_GENERIC_ADJECTIVES, 15), noun=one(_GENERIC_NOUNS, 16))
        descriptions.append(" ".join([plot, summary, generic][: n_sentences[i]]))

    # Same title and year twice: the later one becomes a sequel ("... II").
    full = pd.Series([f"{t} ({y})" for t, y in zip(titles, year)])
    repeat = full.groupby(full, sort=False).cumcount().to_numpy()
    titles = [t if k == 0 else f"{t} {_ROMAN[min(k, len(_ROMAN)) - 1]}" for t, k in zip(titles, repeat)]
    titles = np.array([f"{t} ({y})" for t, y in zip(titles, year)], dtype=object)
    return titles, np.array(descriptions, dtype=object)


# ---------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m recsys_core.synthetic",
        description="Write a synthetic ratings data set (ratings.csv, items.csv, users.csv) with planted "
                    "genres, taste segments and a popularity long tail.")
    parser.add_argument("--out", required=True, type=Path, help="directory to write the CSV files into")
    parser.add_argument("--users", type=int, default=600, help="number of users (default 600)")
    parser.add_argument("--items", type=int, default=1500, help="number of items (default 1500)")
    parser.add_argument("--ratings", type=int, default=45_000, help="number of ratings (default 45000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--feedback", choices=("ratings", "counts"), default="ratings",
                        help="ratings (stars 1-5, ratings.csv) or counts (play counts, plays.tsv in Last.fm's layout)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        paths = write_sample(args.out, n_users=args.users, n_items=args.items, n_ratings=args.ratings,
                             seed=args.seed, feedback=args.feedback)
    except ValueError as error:
        parser.error(str(error))
    seconds = time.perf_counter() - began
    sizes = ", ".join(f"{path.name} {path.stat().st_size / 1e6:.1f} MB" for path in paths.values())
    print(f"Wrote {args.users} users, {args.items} items, {args.ratings} ratings to {args.out} "
          f"in {seconds:.1f} s ({sizes}).")


if __name__ == "__main__":
    main()
