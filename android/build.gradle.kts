// The dash-qrsync-android AAR: the UniFFI-generated Kotlin API (bindings/generated/kotlin),
// the coroutine layer (bindings/kotlin/src/main/kotlin), and the Rust library for arm64-v8a,
// armeabi-v7a and x86_64 in jniLibs (built by scripts/build-aar.sh with cargo-ndk).
// Publication: `gradle publishReleasePublicationToMavenLocal` (or a repository configured by the
// publisher) writes the AAR, its sources and javadoc jars and the POM below.
// Not built on the project's CI machine (no Android SDK/NDK there); no Gradle wrapper is
// committed (its jar is not on Maven Central): use Gradle 8.7+ on the PATH.
plugins {
    id("com.android.library") version "8.5.2"
    id("org.jetbrains.kotlin.android") version "2.0.21"
    `maven-publish`
}

group = "org.dash.qrsync"
version = "0.1.0"

// The public repository; set it before publishing (-PrepoUrl=... or here).
val repoUrl = (findProperty("repoUrl") as String?) ?: "https://github.com/dash-qrsync/dash-qrsync"

android {
    namespace = "org.dash.qrsync"
    compileSdk = 34
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }
    sourceSets["main"].java.srcDirs(
        "../bindings/generated/kotlin",
        "../bindings/kotlin/src/main/kotlin",
    )
    sourceSets["main"].jniLibs.srcDirs("src/main/jniLibs")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    packaging { jniLibs { useLegacyPackaging = false } }
    publishing {
        singleVariant("release") {
            withSourcesJar()
            withJavadocJar()
        }
    }
}

dependencies {
    // `api`: the public API exposes JNA and coroutine types (Flow, StateFlow).
    api("net.java.dev.jna:jna:5.14.0@aar")
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.8.1")
    androidTestImplementation("androidx.test:runner:1.6.2")
    androidTestImplementation("androidx.test.ext:junit:1.2.1")
}

publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "org.dash.qrsync"
            artifactId = "dash-qrsync-android"
            version = project.version.toString()
            afterEvaluate { from(components["release"]) }
            pom {
                name.set("dash-qrsync (Android)")
                description.set(
                    "Fast, fully validated Dash masternode-list and LLMQ quorum sync for wallets: " +
                        "Kotlin API (UniFFI bindings, coroutines layer) with the native library " +
                        "for arm64-v8a, armeabi-v7a and x86_64.",
                )
                url.set(repoUrl)
                licenses {
                    license {
                        name.set("MIT License")
                        url.set("https://opensource.org/licenses/MIT")
                        comments.set("dash-qrsync is dual-licensed: MIT OR Apache-2.0, at your option.")
                    }
                    license {
                        name.set("Apache License, Version 2.0")
                        url.set("https://www.apache.org/licenses/LICENSE-2.0.txt")
                    }
                }
                developers {
                    developer {
                        id.set("dash-qrsync")
                        name.set("The dash-qrsync developers")
                        url.set(repoUrl)
                    }
                }
                scm {
                    url.set(repoUrl)
                    connection.set("scm:git:$repoUrl.git")
                    developerConnection.set("scm:git:$repoUrl.git")
                }
            }
        }
    }
}
